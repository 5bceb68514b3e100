import passing from '../fixtures/drill-result-pass.json';
import rpoMissed from '../fixtures/drill-result-rpo-fail.json';
import { renderDrillSummary } from '../../cli/render-drill';
import { renderJunit } from '../../reports/render-junit';
import { renderReport } from '../../reports';
import { NOT_INJECTED, type DrillResult } from '../../workflows/drill-types';

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: XmlElement[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * A small, strict XML reader (no regular expressions): it throws on anything not well-formed (unbalanced or
 * crossed tags, unquoted or duplicate attributes, a raw `<` or `&` in text, unknown entities) and returns the
 * element tree, so the tests can assert on the parsed document rather than on the text.
 */
function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at ${at}: ${why} near ${JSON.stringify(source.slice(at, at + 40))}`);
  };
  // Letters (anything with a case), digits and - _ . : — enough for the names a report writes.
  const isNameChar = (char: string | undefined): boolean =>
    char !== undefined && (char.toLowerCase() !== char.toUpperCase() || '0123456789-_.:'.includes(char));
  const readName = (): string => {
    const start = at;
    while (isNameChar(source[at])) at += 1;
    if (at === start) fail('expected a name');
    return source.slice(start, at);
  };
  const skipSpace = (): void => {
    while (source[at] === ' ' || source[at] === '\n' || source[at] === '\t' || source[at] === '\r') at += 1;
  };
  const decode = (raw: string): string => {
    let out = '';
    for (let index = 0; index < raw.length; index += 1) {
      const char = raw[index] as string;
      if (char === '<') fail('raw < in text or attribute');
      if (char !== '&') {
        out += char;
        continue;
      }
      const end = raw.indexOf(';', index);
      if (end < 0) fail('unterminated entity');
      const entity = raw.slice(index + 1, end);
      if (entity.startsWith('#')) {
        const code = Number(entity.startsWith('#x') ? `0x${entity.slice(2)}` : entity.slice(1));
        if (!Number.isInteger(code)) fail(`bad character reference &${entity};`);
        out += String.fromCodePoint(code);
      } else {
        const value = ENTITIES[entity];
        if (value === undefined) fail(`unknown entity &${entity};`);
        out += value;
      }
      index = end;
    }
    return out;
  };
  if (source.startsWith('<?xml')) {
    const end = source.indexOf('?>');
    if (end < 0) fail('unterminated declaration');
    at = end + 2;
  }
  const readElement = (): XmlElement => {
    if (source[at] !== '<') fail('expected <');
    at += 1;
    const element: XmlElement = { name: readName(), attributes: {}, text: '', children: [] };
    for (;;) {
      skipSpace();
      if (source.startsWith('/>', at)) {
        at += 2;
        return element;
      }
      if (source[at] === '>') {
        at += 1;
        break;
      }
      const name = readName();
      if (name in element.attributes) fail(`duplicate attribute ${name}`);
      skipSpace();
      if (source[at] !== '=') fail('expected =');
      at += 1;
      skipSpace();
      const quote = source[at];
      if (quote !== '"' && quote !== "'") fail('unquoted attribute');
      const end = source.indexOf(quote as string, at + 1);
      if (end < 0) fail('unterminated attribute');
      element.attributes[name] = decode(source.slice(at + 1, end));
      at = end + 1;
    }
    for (;;) {
      const next = source.indexOf('<', at);
      if (next < 0) fail(`unclosed <${element.name}>`);
      element.text += decode(source.slice(at, next));
      at = next;
      if (source.startsWith('</', at)) {
        at += 2;
        const name = readName();
        if (name !== element.name) fail(`</${name}> closes <${element.name}>`);
        skipSpace();
        if (source[at] !== '>') fail('expected >');
        at += 1;
        return element;
      }
      element.children.push(readElement());
    }
  };
  skipSpace();
  const root = readElement();
  skipSpace();
  if (at !== source.length) fail('content after the root element');
  return root;
}

function all(element: XmlElement, name: string): XmlElement[] {
  return [
    ...(element.name === name ? [element] : []),
    ...element.children.flatMap((child) => all(child, name)),
  ];
}

const pass = passing as DrillResult;
const rpoFail = rpoMissed as DrillResult;

describe('renderJunit', () => {
  test('GIVEN a passing drill WHEN rendered THEN one suite with an RTO and an RPO case and no failure', () => {
    const root = parseXml(renderJunit(pass));
    const suites = all(root, 'testsuite');
    expect(suites).toHaveLength(1);
    expect(suites[0]?.attributes).toMatchObject({ tests: '2', failures: '0', errors: '0' });
    expect(all(root, 'testcase').map((testcase) => testcase.attributes.name)).toEqual([
      'RTO within 30s',
      'RPO within 1s',
    ]);
    expect(all(root, 'failure')).toHaveLength(0);
  });

  test('GIVEN a drill that missed its RPO WHEN rendered THEN the RPO case fails with measured, target and a negative margin', () => {
    const root = parseXml(renderJunit(rpoFail));
    expect(all(root, 'testsuite')[0]?.attributes.failures).toBe('1');
    const [rto, rpo] = all(root, 'testcase');
    expect(rto?.children.map((child) => child.name)).toEqual(['system-out']);
    expect(rto?.attributes.time).toBe('14.400');
    expect(rpo?.attributes.time).toBe('0.000');
    const failure = rpo?.children[0];
    expect(failure?.name).toBe('failure');
    expect(failure?.attributes.message).toBe('RPO 3.4s exceeds objective 1s (margin -2.4s)');
    expect(failure?.text).toBe('measured=3400ms target=1000ms margin=-2400ms');
  });

  test('GIVEN markup and quotes in the reason WHEN rendered THEN the XML stays well-formed and keeps the text', () => {
    const reason = `<script>alert("x")</script> & 'drill' \u0007`;
    const root = parseXml(renderJunit({ ...pass, reason }));
    const property = all(root, 'property').find((candidate) => candidate.attributes.name === 'reason');
    expect(property?.attributes.value).toBe(`<script>alert("x")</script> & 'drill' `);
  });

  test('GIVEN a drill refused at pre-flight (its verdicts read back from JSON) WHEN rendered THEN both cases are errors, counted as errors, and the summary says not measured', () => {
    const refused = JSON.parse(
      JSON.stringify({
        ...pass,
        verdicts: pass.verdicts.map((verdict) => ({
          ...verdict,
          measuredMs: NaN,
          marginMs: NaN,
          passed: false,
        })),
        measured: { rtoMs: null, rpoMs: null },
        injection: { ...pass.injection, summary: NOT_INJECTED },
        passed: false,
        error: 'pre-flight refused the drill, nothing was injected: replica lag 40s > 30s',
      }),
    ) as DrillResult;
    const root = parseXml(renderJunit(refused));
    // Before: failures="2" errors="0" around two <error> elements.
    expect(all(root, 'testsuite')[0]?.attributes).toMatchObject({ failures: '0', errors: '2' });
    expect(all(root, 'error')).toHaveLength(2);
    expect(all(root, 'failure')).toHaveLength(0);
    // Before: "✖ RTO 0ms against 30s (margin 0ms)".
    const summary = renderDrillSummary(refused);
    expect(summary).toContain('– RTO not measured against 30s\n');
    expect(summary).not.toMatch(/margin/);
    const markdown = renderReport(refused, 'md');
    expect(markdown).toContain('- Failure injected: none (the drill stopped before injecting');
    expect(markdown).not.toMatch(/RTO FAIL/);
  });

  test('GIVEN a drill that could not measure its RPO WHEN rendered THEN the RPO case is an error naming why', () => {
    const unmeasured: DrillResult = {
      ...rpoFail,
      verdicts: rpoFail.verdicts.filter((verdict) => verdict.objective === 'RTO'),
      measured: { rtoMs: 14_400, rpoMs: null },
      dataLoss: null,
      error: 'promoted database unreachable: connection refused',
    };
    const root = parseXml(renderJunit(unmeasured));
    expect(all(root, 'testsuite')[0]?.attributes).toMatchObject({ failures: '0', errors: '1' });
    expect(all(root, 'error')[0]?.attributes.message).toBe(
      'RPO not measured: promoted database unreachable: connection refused',
    );
  });
});

describe('parseXml (the check itself)', () => {
  test.each([
    ['<a><b></a></b>', /closes/],
    ['<a x=1/>', /unquoted/],
    ['<a>1 < 2</a>', /expected a name|raw </],
    ['<a>&nbsp;</a>', /unknown entity/],
    ['<a/><b/>', /after the root/],
  ])('rejects %s', (xml, why) => {
    expect(() => parseXml(xml)).toThrow(why);
  });
});
