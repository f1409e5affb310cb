/**
 * The hollow runtime's tiny shell: enough of `sh -c` to script simulated containers and to serve
 * `kubectl exec` against hollow pods. Pure parsing; running is in program.ts (containers) and
 * exec.ts (exec sessions).
 *
 * Grammar: statements separated by `;`, `&&`, `||` or newlines; words with '…', "…" and \ escapes;
 * `>&2` / `1>&2` send a statement's output to stderr, `2>&1` and `2>/dev/null` are accepted.
 * Builtins: echo [-n] · exit [N] · true · false · sleep SECONDS|infinity · trap '' TERM ·
 * cat (stdin to stdout) · hostname · env · printenv [NAME] · pwd. Anything else "is not found" (127).
 */

export type Connector = ";" | "&&" | "||";

export interface Statement {
  readonly argv: readonly string[];
  /** Output goes to stderr (`>&2`). */
  readonly toStderr: boolean;
  /** How this statement is joined to the previous one (";" for the first). */
  readonly connector: Connector;
}

export const SHELL_BUILTINS: readonly string[] = ["echo", "exit", "true", "false", "sleep", "trap", "cat", "hostname", "env", "printenv", "pwd", ":"];

/** Parses a script; throws `SyntaxError` with the reason (unterminated quote, dangling operator). */
export function parseScript(script: string): Statement[] {
  const out: Statement[] = [];
  let argv: string[] = [];
  let toStderr = false;
  let connector: Connector = ";";
  let word: string | null = null;
  const endWord = (): void => {
    if (word === null) return;
    if (word === ">&2" || word === "1>&2") toStderr = true;
    else if (word !== "2>&1" && word !== "2>/dev/null" && word !== ">/dev/null") argv.push(word);
    word = null;
  };
  const endStatement = (next: Connector): void => {
    endWord();
    if (argv.length === 0) {
      if (next !== ";") throw new SyntaxError(`syntax error near "${next}"`);
      return;
    }
    out.push({ argv, toStderr, connector });
    argv = [];
    toStderr = false;
    connector = next;
  };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (ch === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) throw new SyntaxError("unterminated single quote");
      word = (word ?? "") + script.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let s = "";
      let j = i + 1;
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === "\\" && j + 1 < script.length && '"\\$`'.includes(script[j + 1]!)) j++;
        s += script[j];
      }
      if (j >= script.length) throw new SyntaxError("unterminated double quote");
      word = (word ?? "") + s;
      i = j;
    } else if (ch === "\\") {
      if (i + 1 < script.length) word = (word ?? "") + script[++i];
    } else if (ch === " " || ch === "\t") {
      endWord();
    } else if (ch === ";" || ch === "\n") {
      endStatement(";");
    } else if (ch === "&" && script[i + 1] === "&") {
      if (argv.length === 0 && word === null) throw new SyntaxError('syntax error near "&&"');
      endStatement("&&");
      i++;
    } else if (ch === "|" && script[i + 1] === "|") {
      if (argv.length === 0 && word === null) throw new SyntaxError('syntax error near "||"');
      endStatement("||");
      i++;
    } else if (ch === "|" || (ch === "&" && script[i - 1] !== ">")) {
      throw new SyntaxError(`"${ch}" (pipes and background jobs) is not supported by the hollow shell`);
    } else {
      word = (word ?? "") + ch;
    }
  }
  endWord();
  if (argv.length > 0) out.push({ argv, toStderr, connector });
  else if (connector !== ";") throw new SyntaxError(`syntax error: "${connector}" at the end`);
  return out;
}

/** `sh -c SCRIPT` (also bash/ash, by path or name): the script, else undefined. */
export function shellScriptOf(argv: readonly string[]): string | undefined {
  const prog = argv[0];
  if (prog === undefined) return undefined;
  const base = prog.slice(prog.lastIndexOf("/") + 1);
  if ((base === "sh" || base === "bash" || base === "ash") && argv[1] === "-c" && argv[2] !== undefined) return argv[2];
  return undefined;
}

/** Seconds argument of `sleep`: milliseconds, Infinity for `infinity`, undefined if malformed. */
export function sleepMs(arg: string | undefined): number | undefined {
  if (arg === "infinity" || arg === "inf") return Infinity;
  if (arg === undefined || !/^\d+(\.\d+)?$/.test(arg)) return undefined;
  return Number(arg) * 1000;
}

/** Exit status argument of `exit` (0-255, wraps like a shell); undefined if malformed. */
export function exitStatus(arg: string | undefined, last: number): number | undefined {
  if (arg === undefined) return last;
  if (!/^-?\d+$/.test(arg)) return undefined;
  return ((Number(arg) % 256) + 256) % 256;
}

/** `echo` output for its arguments (with `-n`: no newline). */
export function echoText(args: readonly string[]): string {
  if (args[0] === "-n") return args.slice(1).join(" ");
  return `${args.join(" ")}\n`;
}

/** True for `trap '' TERM` (also SIGTERM / 15 among the signals). */
export function ignoresTerm(argv: readonly string[]): boolean {
  return argv[0] === "trap" && argv[1] === "" && argv.slice(2).some((s) => s === "TERM" || s === "SIGTERM" || s === "15");
}
