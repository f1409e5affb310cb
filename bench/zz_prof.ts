import { measure } from "./_kernel_measure.ts";
const a = new Float64Array(5000).fill(3), b = new Float64Array(5000).fill(7);
let s = 0; const t0 = performance.now();
for (let r = 0; r < 2000; r++) for (let i = 0; i < 5000; i++) s += Math.trunc((a[i]! * 100) / b[i]!);
console.log("baseline div loop ns/elem", ((performance.now() - t0) * 1e6) / 1e7, s);
console.log(JSON.stringify((await measure("node")).nsPerNode));
