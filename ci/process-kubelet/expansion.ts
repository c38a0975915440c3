// Kubernetes' `$(VAR)` expansion, as the kubelet applies it to env values, command and args:
// `$(NAME)` becomes the value of NAME when NAME is defined and stays as written when it is not;
// `$$` is an escaped `$`; any other `$` is literal.

export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== "$" || i + 1 >= input.length) { out += c; continue; }
    const next = input[i + 1]!;
    if (next === "$") { out += "$"; i++; continue; }
    if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) { out += "$("; i++; continue; } // unclosed: "$(" is literal, go on after it
      const name = input.slice(i + 2, close);
      const value = name ? lookup(name) : undefined;
      out += value ?? `$(${name})`;
      i = close;
      continue;
    }
    out += c;
  }
  return out;
}

/** A lookup over several maps, first match wins. */
export function lookupIn(...maps: Array<Record<string, string> | Map<string, string>>): (name: string) => string | undefined {
  return (name) => {
    for (const m of maps) {
      const v = m instanceof Map ? m.get(name) : Object.hasOwn(m, name) ? m[name] : undefined;
      if (v !== undefined) return v;
    }
    return undefined;
  };
}
