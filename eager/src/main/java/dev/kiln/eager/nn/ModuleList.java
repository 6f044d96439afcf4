package dev.kiln.eager.nn;

import java.util.Iterator;
import java.util.List;

/** An indexed list of submodules (registered as "0", "1", ...); the owner decides how to call them. */
public class ModuleList extends Module implements Iterable<Module> {
    private int size;

    public ModuleList(Module... modules) {
        for (Module m : modules) add(m);
    }

    public ModuleList add(Module m) {
        registerModule(Integer.toString(size++), m);
        return this;
    }

    public Module get(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("ModuleList: index " + i + " is out of range for " + size + " modules");
        return namedChildren().get(Integer.toString(i));
    }

    public int size() { return size; }

    @Override
    public Iterator<Module> iterator() { return List.copyOf(children()).iterator(); }
}
