// A small XML well-formedness checker for the SVG tests (no DOM in Node): balanced, properly nested
// tags, quoted attributes, no raw '<' or unescaped '&' in text, exactly one root element.

export function checkWellFormed(doc: string): void {
  let s = doc.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const text = lt < 0 ? s.slice(i) : s.slice(i, lt);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`unescaped & in text: ${text.slice(0, 40)}`);
    if (text.includes('>')) throw new Error(`raw > in text: ${text.slice(0, 40)}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text.slice(0, 40)}`);
    if (lt < 0) break;
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = s.slice(lt + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      const selfClose = tag.endsWith('/');
      const body = selfClose ? tag.slice(0, -1) : tag;
      const m = /^([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*$/.exec(body);
      if (!m) throw new Error(`malformed tag <${tag.slice(0, 60)}>`);
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(m[1] as string);
    }
    i = gt + 1;
  }
  if (stack.length !== 0) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  s = '';
}

/** Values of `data-value` attributes, in document order. */
export function dataValues(doc: string): number[] {
  return [...doc.matchAll(/data-value="([^"]*)"/g)].map((m) => Number(m[1]));
}
