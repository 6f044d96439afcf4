package dev.kiln.eager.nn;

import java.util.Map;

/** Submodules by name, in insertion order; the owner decides how to call them. */
public class ModuleDict extends Module {
    public ModuleDict put(String name, Module m) {
        registerModule(name, m);
        return this;
    }

    public Module get(String name) { return namedChildren().get(name); }

    public Map<String, Module> asMap() { return namedChildren(); }
}
