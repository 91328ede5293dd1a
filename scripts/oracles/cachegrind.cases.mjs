// Cases of the Cachegrind agreement check: kernel arguments (see cachegrind-kernel.S) and the
// geometry given to valgrind as --I1/--D1/--LL=size,assoc,line (the model's l1i/l1d/l2, no LLC).
export const CASES = [
  { name: 'seq-d1-thrash', n: 512, stride: 64, reps: 4, mode: 0, dataOffset: 0, I1: [16384, 4, 64], D1: [16384, 4, 64], LL: [131072, 8, 64] },
  { name: 'seq-ll-thrash', n: 4096, stride: 64, reps: 2, mode: 0, dataOffset: 0, I1: [16384, 4, 64], D1: [16384, 4, 64], LL: [131072, 8, 64] },
  { name: 'direct-mapped-conflict', n: 2, stride: 4096, reps: 50, mode: 0, dataOffset: 0, I1: [4096, 1, 64], D1: [4096, 1, 64], LL: [65536, 4, 64] },
  { name: 'two-way-three-lines', n: 3, stride: 2048, reps: 20, mode: 0, dataOffset: 0, I1: [4096, 2, 64], D1: [4096, 2, 64], LL: [65536, 4, 64] },
  { name: 'two-way-two-lines', n: 2, stride: 2048, reps: 20, mode: 0, dataOffset: 0, I1: [4096, 2, 64], D1: [4096, 2, 64], LL: [65536, 4, 64] },
  { name: 'unaligned-stride', n: 300, stride: 72, reps: 3, mode: 0, dataOffset: 4, I1: [16384, 4, 64], D1: [16384, 4, 64], LL: [131072, 8, 64] },
  { name: 'big-ll', n: 8192, stride: 64, reps: 2, mode: 0, dataOffset: 0, I1: [32768, 8, 64], D1: [32768, 8, 64], LL: [524288, 16, 64] },
  { name: 'code-i1-thrash', n: 0, stride: 0, reps: 5, mode: 1, dataOffset: 0, I1: [8192, 2, 64], D1: [8192, 2, 64], LL: [65536, 8, 64] },
  { name: 'code-direct-mapped', n: 0, stride: 0, reps: 3, mode: 1, dataOffset: 0, I1: [4096, 1, 64], D1: [4096, 1, 64], LL: [16384, 1, 64] },
  { name: 'spanning-64B', n: 256, stride: 64, reps: 2, mode: 2, dataOffset: 0, I1: [16384, 4, 64], D1: [8192, 2, 64], LL: [65536, 8, 64] },
  { name: 'spanning-32B', n: 128, stride: 96, reps: 3, mode: 2, dataOffset: 0, I1: [8192, 4, 32], D1: [4096, 2, 32], LL: [32768, 4, 32] },
];
