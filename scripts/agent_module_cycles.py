#!/usr/bin/env python3
"""How tangled crates/agent's modules are: the import cycles among its top-level modules.

The brief asks every change to `agent` to leave it with fewer cycles than it found; this
measures them. A module is a top-level file or folder of crates/agent/src; it depends on
another when its code (not its comments) names `crate::<other>`. Prints the number of
modules, the sizes of the strongly connected components with more than one module, and
the number of dependencies inside them; `--edges` also lists those dependencies.

    python3 scripts/agent_module_cycles.py [--edges] [repository root]
"""

import os
import re
import sys


def dependencies(source_dir):
    """Each top-level module and the set of top-level modules its code names."""
    modules = {}
    for folder, _, files in os.walk(source_dir):
        for file in files:
            if not file.endswith(".rs"):
                continue
            path = os.path.join(folder, file)
            top = os.path.relpath(path, source_dir).split(os.sep)[0].removesuffix(".rs")
            if top in ("lib", "main"):
                continue
            named = modules.setdefault(top, set())
            with open(path, encoding="utf-8") as handle:
                code = "\n".join(
                    line for line in handle if not line.strip().startswith("//")
                )
            named.update(re.findall(r"crate::(\w+)", code))
            for group in re.findall(r"crate::\{([^}]*)\}", code):
                for part in re.split(r"[,\s]+", group):
                    head = part.split("::")[0].strip()
                    if re.fullmatch(r"\w+", head):
                        named.add(head)
    return {m: {d for d in named if d in modules and d != m} for m, named in modules.items()}


def components(edges):
    """Tarjan's strongly connected components of `edges`."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            found.append(component)

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main():
    args = [a for a in sys.argv[1:] if a != "--edges"]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), "..")
    edges = dependencies(os.path.join(root, "crates", "agent", "src"))
    cycles = [c for c in components(edges) if len(c) > 1]
    owner = {m: i for i, c in enumerate(cycles) for m in c}
    inside = [(a, b) for a in sorted(edges) for b in sorted(edges[a])
              if a in owner and owner.get(b) == owner[a]]
    print(f"modules {len(edges)}; cycles (modules in each) {sorted(map(len, cycles), reverse=True)}; "
          f"dependencies inside cycles {len(inside)}")
    if "--edges" in sys.argv:
        for a, b in inside:
            print(f"  {a} -> {b}")


if __name__ == "__main__":
    main()
