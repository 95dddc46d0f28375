// Journal replay: committed mutations applied onto the main tree, without watch events.

import { XenstoreStateError } from "./errors.js";
import { baseName, childPath, parentPath } from "./path.js";
import type { EngineState } from "./state.js";
import type { Mutation } from "./types.js";

export function applyMutations(state: EngineState, mutations: readonly Mutation[]): void {
  const main = state.main;
  for (const m of mutations) {
    switch (m.op) {
      case "set": {
        const old = main.get(m.path);
        const perms = m.perms.map((p) => ({ ...p }));
        if (perms.length === 0) throw new XenstoreStateError(`set ${m.path}: no permissions`);
        if (old) {
          main.put(m.path, { ...old, value: m.value.slice(), perms, generation: ++state.generation });
          break;
        }
        if (m.path[0] !== "@") {
          if (m.path === "/" || m.path[0] !== "/") throw new XenstoreStateError(`set ${m.path}: bad path`);
          const parentName = parentPath(m.path);
          const parent = main.get(parentName);
          if (!parent) throw new XenstoreStateError(`set ${m.path}: parent missing`);
          main.put(parentName, {
            ...parent,
            children: [...parent.children, baseName(m.path)],
            generation: ++state.generation,
          });
        }
        main.put(m.path, { value: m.value.slice(), perms, children: [], generation: ++state.generation });
        break;
      }
      case "rm": {
        const node = main.get(m.path);
        if (!node || m.path === "/") break;
        const stack = [m.path];
        while (stack.length > 0) {
          const path = stack.pop()!;
          const gone = main.get(path);
          if (!gone) continue;
          for (const child of gone.children) stack.push(childPath(path, child));
          main.put(path, null);
        }
        const parentName = parentPath(m.path);
        const parent = main.get(parentName);
        if (parent && m.path[0] !== "@") {
          const base = baseName(m.path);
          main.put(parentName, {
            ...parent,
            children: parent.children.filter((c) => c !== base),
            generation: ++state.generation,
          });
        }
        break;
      }
      case "domain":
        if (!m.introduced) state.domains.delete(m.domid);
        else {
          const domain = state.domains.get(m.domid) ?? { domid: m.domid, introduced: true, shutdown: false };
          domain.introduced = true;
          if (m.mfn !== undefined) domain.mfn = m.mfn;
          if (m.port !== undefined) domain.port = m.port;
          if (m.target !== undefined) domain.target = m.target;
          state.domains.set(m.domid, domain);
        }
        break;
    }
  }
}
