package dev.kiln.examples;

import java.util.Arrays;

/** Entry point of {@code bin/kiln}: dispatches to the runnable examples. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        String cmd = args.length == 0 ? "help" : args[0];
        String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (cmd) {
                case "demo" -> FashionMnistDemo.run(rest, System.out);
                case "help", "--help", "-h" -> usage();
                default -> {
                    System.err.println("kiln: unknown command '" + cmd + "'");
                    usage();
                    System.exit(2);
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("kiln: " + e.getMessage());
            System.exit(2);
        } catch (Exception e) {
            System.err.println("kiln " + cmd + " failed: " + e);
            if (Boolean.getBoolean("kiln.verbose")) e.printStackTrace();
            System.exit(1);
        }
    }

    private static void usage() {
        System.out.println("usage: kiln demo [--data DIR] [--epochs N] [--batch-size N] [--lr X] [--limit N] [--checkpoint FILE]");
        System.out.println("  demo   train LeNet-5 on Fashion-MNIST eagerly, evaluate it and save a checkpoint");
    }
}
