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
@Command(name = "kiln", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class,
        description = "Train the demo; inspect, run, draw, benchmark and serve Kiln graph artifacts (*.kiln.json).",
        subcommands = {DemoCommand.class, InspectCommand.class, RunCommand.class, ConvertCommand.class, DotCommand.class, BenchCommand.class, ServeCommand.class,
            CommandLine.HelpCommand.class, picocli.AutoComplete.GenerateCompletion.class})
public final class KilnCli {
    static final int BAD_INPUT = 2;

    /** {@code --version} on every command: the one version of the build (parent POM). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"kiln " + dev.kiln.backend.KilnVersion.VERSION, "JVM: ${java.version} (${java.vendor} ${java.vm.name})", "OS: ${os.name} ${os.arch}"};
        }
    }

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "print stack traces of errors")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams; returns the exit code (used by tests in-process). */
    /**
     * Kiln's own loggers (which kernels were chosen, retraces) say nothing below WARNING on the
     * command line unless --verbose: one line on bad input means one line. Held here, since the
     * log manager keeps loggers only weakly and would forget the level.
     */
    private static final java.util.logging.Logger KILN_LOG = java.util.logging.Logger.getLogger("dev.kiln");

    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        // Kiln logs through System.Logger, which the JDK routes to java.util.logging: its DEBUG
        // lines (the kernels chosen at startup) are FINE there, below the console's INFO
        KILN_LOG.setLevel(verbose ? java.util.logging.Level.FINE : java.util.logging.Level.WARNING);
        if (verbose && KILN_LOG.getHandlers().length == 0) {
            java.util.logging.ConsoleHandler h = new java.util.logging.ConsoleHandler();
            h.setLevel(java.util.logging.Level.FINE);
            KILN_LOG.addHandler(h);
            KILN_LOG.setUseParentHandlers(false);
        }
        KilnCli root = new KilnCli();
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            // picocli says "option option '--input'" for map options
            String message = ex.getMessage().replace("option option", "option");
            String suggestion = "";
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
                suggestion = "; did you mean " + String.join(" or ", u.getSuggestions().stream().map(s -> "'" + s + "'").toList()) + "?";
            }
            err.println("kiln: " + message + suggestion + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
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
