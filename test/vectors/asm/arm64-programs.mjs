// Label programs for the arm64 golden vectors: llvm-mc resolves the branches (-filetype=obj), the
// test builds the same program with CodeBuffer + codegen/arm64/labels.ts and compares the images.
// Distances sit at the edges of each kind's reach (imm19, imm14, ADR21).

export function arm64Programs() {
  return [
    {
      name: 'branches',
      asm: [
        'start:', 'b fwd', 'bl fwd', 'b.ne start', 'cbz x1, fwd', 'cbnz w2, start', 'tbz x3, #40, fwd', 'tbnz w4, #7, start',
        'adr x5, fwd', 'adr x6, start', 'ldr x7, lit', 'ldr w8, lit', 'b.al start', 'fwd:', 'ret', 'nop', 'lit:', '.quad 0x1122334455667788',
      ].join('\n') + '\n',
    },
    {
      name: 'imm19-edge',
      asm: 'start:\nb.eq far\nldr x2, far\n.space 1048564\nfar:\nnop\ncbz x0, start\n',
    },
    {
      name: 'imm14-edge',
      asm: 'start:\ntbz x0, #1, far\n.space 32760\nfar:\nnop\ntbnz w1, #31, start\n',
    },
    {
      name: 'adr-edge',
      asm: 'start:\nadr x0, far\n.space 1048571\nfar:\n.byte 0\nadr x1, start\n',
    },
  ];
}
