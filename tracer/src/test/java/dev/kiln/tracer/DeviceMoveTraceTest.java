package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.Device;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Assumption;
import dev.kiln.graph.Graph;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Device moves in a trace. Graphs carry no devices: {@code to(device)} is recorded as the
 * {@code clone} it dispatches, and the move itself goes into the ledger through
 * {@code OpObserver.onDeviceMove}. kiln-tracer's tests have only the CPU, so the move is
 * reported here the way {@code Tensor.to} reports it, to the observer the trace installed
 * (kiln-eager's ToDeviceGradTest checks that {@code to} does report it, on a fake device).
 */
class DeviceMoveTraceTest {

    @Test
    void aMoveIsACloneInTheGraphAndADeviceEntryInTheLedger() {
        Graph g = Tracer.trace(in -> {
            Tensor moved = in[0].clone();
            Dispatcher.observer().onDeviceMove(in[0], moved); // what x.to(gpu) reports after its clone
            return moved.mul(2.0);
        }, new Tensor[] {Tensor.randn(2, 3)}, TraceOptions.builder().name("move").build());
        String text = g.toString();
        assertTrue(text.contains("clone(%x)"), text);
        List<Assumption> moves = g.assumptions().stream().filter(a -> a.description().startsWith("to(")).toList();
        assertEquals(1, moves.size(), text);
        Assumption a = moves.get(0);
        assertEquals("device", a.kind());
        assertTrue(a.description().startsWith("to(cpu) of %1 f32[2,3] from cpu is recorded as a copy"), a.description());
        assertTrue(a.source() != null && a.source().startsWith("DeviceMoveTraceTest.java:"), String.valueOf(a.source()));
    }

    @Test
    void toTheDeviceATensorIsOnRecordsNothing() {
        Graph g = Tracer.trace(in -> in[0].to(Device.cpu()).mul(2.0), new Tensor[] {Tensor.randn(2, 3)},
                TraceOptions.builder().name("same").build());
        String text = g.toString();
        assertTrue(!text.contains("clone"), text);
        assertEquals(0, g.assumptions().stream().filter(a -> a.description().startsWith("to(")).count(), text);
        assertTrue(text.contains("device: runs on the CPU backend"), text);
    }
}
