// Layout mirror of src/scheduler/kernel/_layout.ts (keep in step; bump MAGIC on change).

export const MAGIC: i32 = 0x54474b03;
export const H_CAPACITY: i32 = 1;
export const H_EXT: i32 = 2;
export const H_TAINT_WORDS: i32 = 3;
export const H_FIELDS: i32 = 8;

export const F_ALLOC_CPU: i32 = 0;
export const F_ALLOC_MEM: i32 = 1;
export const F_ALLOC_EPH: i32 = 2;
export const F_REQ_CPU: i32 = 3;
export const F_REQ_MEM: i32 = 4;
export const F_REQ_EPH: i32 = 5;
export const F_NZ_CPU: i32 = 6;
export const F_NZ_MEM: i32 = 7;
export const F_ALLOC_EXT: i32 = 8;
export const F_REQ_EXT: i32 = 9;
export const F_IMAGE_SUMS: i32 = 10;
export const F_ALLOC_PODS: i32 = 11;
export const F_POD_COUNT: i32 = 12;
export const F_FLAGS: i32 = 13;
export const F_TAINT_HARD: i32 = 14;
export const F_TAINT_PREFER: i32 = 15;
export const F_PREFERRED: i32 = 16;
export const F_EXTRA: i32 = 17;
export const F_STATUS: i32 = 18;
export const F_SCORE: i32 = 19;
export const F_RAW_TAINT: i32 = 20;
export const F_RAW_AFF: i32 = 21;
export const F_SELECTOR: i32 = 22;
export const F_EXTERNAL: i32 = 23;
export const F_PARAMS_F64: i32 = 24;
export const F_PARAMS_I32: i32 = 25;
export const F_REASONS: i32 = 26;
export const F_RTCR: i32 = 27;
export const F_RESULT: i32 = 28;
export const F_SCRATCH: i32 = 29;
// scratch layout (bytes): fit alloc ptrs u32[8] @0, fit req ptrs u32[8] @32, fit pod f64[8] @64,
// fit weights f64[8] @128, balanced alloc ptrs u32[8] @192, balanced req ptrs u32[8] @224, balanced pod f64[8] @256
export const S_FIT_ALLOC: usize = 0;
export const S_FIT_REQ: usize = 32;
export const S_FIT_POD: usize = 64;
export const S_FIT_W: usize = 128;
export const S_BAL_ALLOC: usize = 192;
export const S_BAL_REQ: usize = 224;
export const S_BAL_POD: usize = 256;
export const S_TAINT_TABLE: usize = 384; // u8[16]: normalized TaintToleration score by count when max ≤ 15

export const PI_W_FIT: i32 = 0;
export const PI_W_BAL: i32 = 1;
export const PI_W_TAINT: i32 = 2;
export const PI_W_AFF: i32 = 3;
export const PI_W_IMG: i32 = 4;
export const PI_STRATEGY: i32 = 5;
export const PI_FIT_N: i32 = 6;
export const PI_FIT_RES: i32 = 7;
export const PI_FIT_W: i32 = 15;
export const PI_BAL_N: i32 = 23;
export const PI_BAL_RES: i32 = 24;
export const PI_POD_FLAGS: i32 = 32;
export const PI_NUM_CONTAINERS: i32 = 33;
export const PI_SEED: i32 = 34;
export const PI_TOL_HARD: i32 = 40;
export const PI_TOL_PREFER: i32 = 48;

export const PF_CPU: i32 = 0;
export const PF_MEM: i32 = 1;
export const PF_EPH: i32 = 2;
export const PF_NZ_CPU: i32 = 3;
export const PF_NZ_MEM: i32 = 4;
export const PF_EXT: i32 = 8;

export const POD_TOL_UNSCHED: i32 = 1;
export const POD_HAS_SELECTOR: i32 = 2;
export const POD_HAS_PREFERRED: i32 = 4;
export const POD_HAS_IMAGES: i32 = 8;
export const POD_HAS_EXTRA: i32 = 16;
export const POD_HAS_EXTERNAL: i32 = 32;

export const R_UNSCHEDULABLE: i32 = 1;
export const R_TAINT: i32 = 2;
export const R_AFFINITY: i32 = 4;
export const R_PODS: i32 = 8;
export const R_CPU: i32 = 16;
export const R_MEMORY: i32 = 32;
export const R_EPHEMERAL: i32 = 64;
export const R_EXTERNAL: i32 = 128;
export const R_EXT0: i32 = 256;
export const REASON_SLOTS: i32 = 16;

export const STRATEGY_LEAST: i32 = 0;
export const STRATEGY_MOST: i32 = 1;

export const MB: f64 = 1048576.0;
export const IMG_MIN: f64 = 23.0 * MB;
export const IMG_MAX_PER_CONTAINER: f64 = 1000.0 * MB;

