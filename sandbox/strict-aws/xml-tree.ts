import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/**
 * An element of fast-xml-parser's order-preserving tree: `{ Tag: children, ':@'?: attributes }`; text is
 * `{ '#text': value }`. Parsing and building it again gives back the same document, so the layer can change
 * one field of moto's answer and leave every other byte alone.
 */
export type XmlNode = Record<string, unknown>;

const OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  parseTagValue: false,
  trimValues: false,
} as const;
const parser = new XMLParser(OPTIONS);
const builder = new XMLBuilder({ ...OPTIONS, suppressEmptyNode: true });

export function parseXml(text: string): XmlNode[] {
  return parser.parse(text) as XmlNode[];
}

export function buildXml(nodes: XmlNode[]): string {
  return builder.build(nodes) as string;
}

export function tagOf(node: XmlNode): string | undefined {
  return Object.keys(node).find((key) => key !== ':@');
}

export function childrenOf(node: XmlNode): XmlNode[] {
  const tag = tagOf(node);
  const children = tag === undefined ? undefined : node[tag];
  return Array.isArray(children) ? (children as XmlNode[]) : [];
}

/** Every element named `name` at any depth below `nodes`. */
export function findAll(nodes: XmlNode[], name: string): XmlNode[] {
  const found: XmlNode[] = [];
  for (const node of nodes) {
    if (tagOf(node) === name) found.push(node);
    found.push(...findAll(childrenOf(node), name));
  }
  return found;
}

/** The direct child element named `name`. */
export function child(node: XmlNode, name: string): XmlNode | undefined {
  return childrenOf(node).find((candidate) => tagOf(candidate) === name);
}

/** The text inside an element (empty string for `<Name/>`). */
export function textOf(element: XmlNode): string {
  return childrenOf(element)
    .map((part) => (typeof part['#text'] === 'string' ? part['#text'] : ''))
    .join('');
}

/** The text of the direct child `name`, or undefined when there is none. */
export function childText(node: XmlNode, name: string): string | undefined {
  const element = child(node, name);
  return element === undefined ? undefined : textOf(element);
}

/** Sets the text of the direct child `name`, appending the child when it is missing. */
export function setChildText(node: XmlNode, name: string, value: string): void {
  const element = child(node, name);
  if (element !== undefined) element[name] = [{ '#text': value }];
  else childrenOf(node).push({ [name]: [{ '#text': value }] });
}

/** Removes every direct child named `name`. */
export function removeChildren(
  node: XmlNode,
  name: string,
  keep: (element: XmlNode) => boolean = () => false,
): void {
  const tag = tagOf(node);
  if (tag === undefined) return;
  node[tag] = childrenOf(node).filter((candidate) => tagOf(candidate) !== name || keep(candidate));
}

/** Escapes text for an XML element body. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
