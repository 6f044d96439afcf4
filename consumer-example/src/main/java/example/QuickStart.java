package example;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.SGD;
import dev.kiln.graph.Graph;
import dev.kiln.runtime.Model;
import dev.kiln.runtime.Tensors;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serve.ModelServer;
import dev.kiln.serve.ServeOptions;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

/** Train a classifier, trace it, save it, run it with the deployment runtime, and serve it over HTTP. */
public final class QuickStart {
    public static void main(String[] args) throws Exception {
        Kiln.manualSeed(0);

        // 1. Data: 1024 points in the plane, labelled 1 inside the unit circle.
        Tensor x = Tensor.randn(1024, 2);
        Tensor y = x.pow(2).sum(new int[] {1}, false).lt(1.0).to(DType.INT64);

        // 2. Train eagerly: every line runs at once, any tensor can be printed.
        Sequential model = new Sequential(new Linear(2, 32), new ReLU(), new Linear(32, 2));
        SGD opt = SGD.builder(model.parameters()).lr(0.1).momentum(0.9).build();
        for (int step = 1; step <= 300; step++) {
            opt.zeroGrad();
            Tensor loss = F.crossEntropy(model.call(x), y);
            loss.backward();
            opt.step();
            if (step % 100 == 0) System.out.printf("step %d  loss %.4f%n", step, loss.item());
        }
        model.eval();
        double accuracy;
        try (var noGrad = Autograd.noGrad()) {
            accuracy = model.call(x).argmax(1, false).eq(y).to(DType.FLOAT32).mean().item();
        }
        System.out.printf("train accuracy %.3f%n", accuracy);
        if (accuracy < 0.9) throw new AssertionError("the classifier did not learn the circle");

        // 3. Trace one run into a static graph with a symbolic batch N, and save it.
        Graph graph;
        try (var noGrad = Autograd.noGrad()) {
            graph = Tracer.trace(model, new Tensor[] {x.narrow(0, 0, 8)},
                    TraceOptions.builder().name("circle").dynamic(0, 0, "N").inputNames("points").outputNames("logits").build());
        }
        Path file = Path.of("target", "circle.kiln.json");
        Files.createDirectories(file.getParent());
        KilnWriter.save(graph, file);
        System.out.println("saved " + file + ": " + graph.inputs().get(0).type() + " -> " + graph.typeOf(graph.outputs().get(0)));

        // 4. Deploy: the runtime loads the file (no model code, no autograd) and runs it at any batch.
        Model deployed = Model.load(file);
        float[] logits = Tensors.toFloatArray(deployed.run(Tensors.of(new float[] {0, 0, 2, 2}, 2, 2)));
        System.out.printf("runtime: (0,0) -> class %d, (2,2) -> class %d%n", logits[1] > logits[0] ? 1 : 0, logits[3] > logits[2] ? 1 : 0);
        if (!(logits[1] > logits[0] && logits[2] > logits[3])) throw new AssertionError("(0,0) is inside the circle and (2,2) outside");

        // 5. Serve it over HTTP and ask it, as a client would.
        ModelServer server = ModelServer.start(KilnReader.read(file), ServeOptions.defaults());
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(server.url() + "/v1/models/circle:predict"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": {\"points\": [[0, 0], [2, 2]]}}")).build();
            HttpResponse<String> answer = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
            System.out.println("POST " + request.uri() + " -> " + answer.statusCode() + " " + answer.body());
            if (answer.statusCode() != 200) throw new AssertionError("the server answered " + answer.statusCode());
        } finally {
            server.stop(1);
        }
    }
}
