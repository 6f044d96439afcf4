package dev.kiln.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code kiln} command. Bad input (a malformed model, a missing file, a wrong shape) exits
 * with code 2 and one line on stderr naming the problem; {@code --verbose} adds the stack trace.
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, version = "kiln 0.1.0",
        description = "Train the demo; inspect, run, draw, benchmark and serve Kiln graph artifacts (*.kiln.json).",
        subcommands = {DemoCommand.class, InspectCommand.class, RunCommand.class, DotCommand.class, BenchCommand.class, ServeCommand.class})
public final class KilnCli {
    static final int BAD_INPUT = 2;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "print stack traces of errors")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams; returns the exit code (used by tests in-process). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        KilnCli root = new KilnCli();
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("kiln: " + ex.getMessage() + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            if (root.verbose) ex.printStackTrace(err);
            return BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            err.println("kiln: " + CliErrors.describe(ex));
            if (root.verbose) ex.printStackTrace(err);
            return CliErrors.isUserError(ex) ? BAD_INPUT : 1;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }
}
