import { describe, expect, it } from 'vitest';
import { ARCHES, exampleModule, ModuleLoadError, PERM_RO, PERM_ROX, PERM_RW, SHF_ALLOC, SHF_WRITE } from '../../execmem/index.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { expectThrow, space } from './helpers.js';

for (const arch of ARCHES) {
  describe(`module_memory (${arch})`, () => {
    it('lays sections into the seven types by the kernel table', () => {
      const s = space(arch);
      const { placed, sizes } = s.modules.layout(exampleModule(arch));
      const typeOf = Object.fromEntries(placed.map((p) => [p.name, p.type]));
      expect(typeOf).toEqual({
        '.text': 'TEXT',
        '.exit.text': 'TEXT',
        '.init.text': 'INIT_TEXT',
        '.rodata': 'RODATA',
        '.data': 'DATA',
        '.bss': 'DATA',
        '.data..ro_after_init': 'RO_AFTER_INIT',
        '.init.data': 'INIT_DATA',
        '.init.rodata': 'INIT_RODATA',
      });
      expect(placed.find((p) => p.name === '.exit.text')?.offset).toBe(1536);
      expect(placed.find((p) => p.name === '.bss')?.offset).toBe(256); // alignUp(200, 64)
      expect(sizes.DATA).toBe(256 + 4096);
    });

    it('follows the permission timeline: UNFORMED RW, COMING, LIVE, unload', () => {
      const s = space(arch);
      const desc = exampleModule(arch);
      const m = s.modules.load(desc);
      const perm = (t: keyof typeof m.regions) => s.pageInfo(m.regions[t]!.base)?.perm;
      expect(m.state).toBe('COMING');
      expect(perm('TEXT')).toBe(PERM_ROX);
      expect(perm('INIT_TEXT')).toBe(PERM_ROX);
      expect(perm('RODATA')).toBe(PERM_RO);
      expect(perm('INIT_RODATA')).toBe(PERM_RO);
      expect(perm('RO_AFTER_INIT')).toBe(PERM_RW);
      expect(perm('DATA')).toBe(PERM_RW);
      const text = s.modules.sectionAddress(m, '.text')!;
      expect(Array.from(s.read(text, desc.sections[0]!.data!.length))).toEqual(Array.from(desc.sections[0]!.data!));
      expect(Array.from(s.read(s.modules.sectionAddress(m, '.bss')!, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      expect(m.timeline.filter((e) => e.state === 'UNFORMED').every((e) => e.perm === 'rw-')).toBe(true);
      const initText = m.regions.INIT_TEXT!.base;
      s.modules.finishInit(m);
      expect(m.state).toBe('LIVE');
      expect(perm('RO_AFTER_INIT')).toBe(PERM_RO);
      expect(s.execmem.allocationAt(initText)).toBeNull();
      expect(m.regions.INIT_DATA!.freed).toBe(true);
      expect(m.timeline.filter((e) => e.state === 'LIVE').map((e) => `${e.type}:${e.perm}`)).toEqual([
        'TEXT:r-x',
        'DATA:rw-',
        'RODATA:r--',
        'RO_AFTER_INIT:r--',
        'INIT_TEXT:freed',
        'INIT_DATA:freed',
        'INIT_RODATA:freed',
      ]);
      if (arch === 'x86_64') expect(s.execmem.allocationAt(m.regions.TEXT!.base)?.source).toBe('rox-cache');
      expect(s.audit().ok).toBe(true);
      s.modules.unload(m);
      expect(m.state).toBe('GONE');
      expect(s.modules.loaded()).toEqual([]);
      expect(s.execmem.allocations()).toEqual([]);
      expectThrow(() => s.modules.unload(m), InvalidArgumentError);
    });

    it('rejects a writable+executable section, duplicate loads and bad descriptions without allocating', () => {
      const s = space(arch);
      const before = s.stateDigest();
      const wx = { name: 'evil', sections: [{ name: '.text', flags: 'awx', size: 16 }] };
      const e = expectThrow(() => s.modules.load(wx), ModuleLoadError);
      expect(e.message).toMatch(/writable and executable/);
      expectThrow(() => s.modules.load({ name: 'x', sections: [{ name: '.init.data..ro_after_init', flags: SHF_ALLOC | SHF_WRITE | 0x00200000, size: 8 }] }), ModuleLoadError);
      expectThrow(() => s.modules.load({ name: 'x', sections: [{ name: '.a', flags: 'a', size: -1 }] }), InvalidArgumentError);
      expectThrow(() => s.modules.load({ name: 'x', sections: [{ name: '.a', flags: 'a', size: 8, align: 3 }] }), InvalidArgumentError);
      expectThrow(() => s.modules.load({ name: 'x', sections: [{ name: '.a', flags: 'aq', size: 8 }] }), InvalidArgumentError);
      expectThrow(() => s.modules.load({ name: 'x', sections: [{ name: '.a', flags: 'a', size: 2, data: new Uint8Array(3) }] }), InvalidArgumentError);
      expect(s.stateDigest()).toBe(before);
      s.modules.load(exampleModule(arch));
      const mid = s.stateDigest();
      expectThrow(() => s.modules.load(exampleModule(arch)), ModuleLoadError);
      expect(s.stateDigest()).toBe(mid);
    });
  });
}
