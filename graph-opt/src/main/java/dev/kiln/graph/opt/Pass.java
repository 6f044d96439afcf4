package dev.kiln.graph.opt;

import dev.kiln.graph.Graph;

/** One graph-to-graph optimization: pure, never edits its input, named for the pass manager. */
public interface Pass {
    /** The name used to switch the pass on or off and in reports ("dce", "cse", ...). */
    String name();

    PassResult run(Graph g);
}
