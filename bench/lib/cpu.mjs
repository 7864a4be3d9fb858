// CPU time used by the processes serving a scenario (Linux /proc), so that each run can report CPU
// milliseconds per request. On a shared 2-core machine wall-clock figures move with whatever else runs;
// the CPU a server spends per request barely does, so it shows the gateway's own cost most steadily.

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond;
function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export const cpuAccountingAvailable = () => process.platform === "linux";

/** pid → {ppid, comm, cpuTicks} for every process we can read. */
function snapshot() {
  const out = new Map();
  let entries = [];
  try {
    entries = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      // comm may contain spaces and parentheses: fields after the last ')' are fixed.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const f = stat.slice(close + 2).split(" ");
      // f[0]=state f[1]=ppid … f[11]=utime f[12]=stime
      out.set(Number(d), { ppid: Number(f[1]), comm, cpuTicks: Number(f[11]) + Number(f[12]) });
    } catch {}
  }
  return out;
}

/** `root` and all its descendants. */
export function descendants(root, snap = snapshot()) {
  const children = new Map();
  for (const [pid, p] of snap) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    if (!snap.has(pid)) continue;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** workerd processes under this process that are not in `known` (to find the one Miniflare just started). */
export function newWorkerdPids(known) {
  const snap = snapshot();
  return descendants(process.pid, snap).filter((pid) => snap.get(pid).comm.startsWith("workerd") && !known.has(pid));
}

export function workerdPids() {
  const snap = snapshot();
  return new Set(descendants(process.pid, snap).filter((pid) => snap.get(pid).comm.startsWith("workerd")));
}

/** Total CPU milliseconds (user + system) of a set of process trees. */
export function cpuMs(rootPids) {
  const snap = snapshot();
  let ticks = 0;
  for (const root of rootPids) for (const pid of descendants(root, snap)) ticks += snap.get(pid).cpuTicks;
  return (ticks * 1000) / clockTicks();
}
