/**
 * A small, strict XML reader and writer for the administration API's ATOM documents. It knows
 * elements, attributes, text, CDATA, comments, the XML declaration and the five predefined plus
 * numeric entities; it does not resolve namespaces (callers match on local names, since the SDK
 * uses arbitrary prefixes such as `p4:type` and `l28:string`). No DTDs.
 */

export interface XmlElement {
  /** The qualified name as written, e.g. `d2p1:ActiveMessageCount`. */
  readonly name: string;
  /** The name without its prefix. */
  readonly local: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Concatenated text content directly inside this element. */
  readonly text: string;
}

export class XmlSyntaxError extends Error {
  constructor(message: string, position: number) {
    super(`${message} at offset ${position}`);
    this.name = "XmlSyntaxError";
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_.:]*/y;
const ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

export function localName(name: string): string {
  const i = name.indexOf(":");
  return i < 0 ? name : name.slice(i + 1);
}

function decodeEntities(text: string, at: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new XmlSyntaxError("bare '&'", at);
    if (ref.startsWith("#x")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const v = ENTITIES[ref];
    if (v === undefined) throw new XmlSyntaxError(`unknown entity ${whole}`, at);
    return v;
  });
}

interface Building {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses a document and returns its root element. Throws XmlSyntaxError on malformed input. */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const stack: Building[] = [];
  let root: XmlElement | undefined;
  const fail = (message: string): never => {
    throw new XmlSyntaxError(message, pos);
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(source);
    if (!m) fail("expected a name");
    pos += m![0].length;
    return m![0];
  };
  const skipSpace = (): void => {
    while (pos < source.length && /\s/.test(source[pos]!)) pos += 1;
  };
  const skipTo = (end: string): string => {
    const i = source.indexOf(end, pos);
    if (i < 0) fail(`missing '${end}'`);
    const body = source.slice(pos, i);
    pos = i + end.length;
    return body;
  };
  if (source.charCodeAt(0) === 0xfeff) pos = 1;
  while (pos < source.length) {
    const lt = source.indexOf("<", pos);
    const textEnd = lt < 0 ? source.length : lt;
    if (textEnd > pos) {
      const text = source.slice(pos, textEnd);
      const top = stack.at(-1);
      if (top) top.text += decodeEntities(text, pos);
      else if (text.trim() !== "") fail("text outside the root element");
      pos = textEnd;
      continue;
    }
    if (source.startsWith("<?", pos)) {
      pos += 2;
      skipTo("?>");
    } else if (source.startsWith("<!--", pos)) {
      pos += 4;
      skipTo("-->");
    } else if (source.startsWith("<![CDATA[", pos)) {
      pos += 9;
      const data = skipTo("]]>");
      const top = stack.at(-1) ?? fail("CDATA outside the root element");
      top.text += data;
    } else if (source.startsWith("<!", pos)) {
      fail("DTDs are not supported");
    } else if (source.startsWith("</", pos)) {
      pos += 2;
      const name = readName();
      skipSpace();
      if (source[pos] !== ">") fail("expected '>'");
      pos += 1;
      const open = stack.pop() ?? fail(`unexpected </${name}>`);
      if (open.name !== name) fail(`</${name}> closes <${open.name}>`);
      close(open);
    } else {
      pos += 1;
      if (root !== undefined && stack.length === 0) fail("a second root element");
      const el: Building = { name: readName(), attrs: {}, children: [], text: "" };
      for (;;) {
        skipSpace();
        if (source.startsWith("/>", pos)) {
          pos += 2;
          close(el);
          break;
        }
        if (source[pos] === ">") {
          pos += 1;
          stack.push(el);
          break;
        }
        const attr = readName();
        skipSpace();
        if (source[pos] !== "=") fail("expected '='");
        pos += 1;
        skipSpace();
        const quote = source[pos];
        if (quote !== '"' && quote !== "'") fail("expected a quoted attribute value");
        pos += 1;
        const valueAt = pos;
        el.attrs[attr] = decodeEntities(skipTo(quote!), valueAt);
      }
    }
  }
  if (stack.length > 0) fail(`<${stack.at(-1)!.name}> is not closed`);
  return root ?? fail("no root element");

  function close(b: Building): void {
    const done: XmlElement = { ...b, local: localName(b.name) };
    const parent = stack.at(-1);
    if (parent) parent.children.push(done);
    else root = done;
  }
}

/** The first child with the given local name. */
export function child(el: XmlElement | undefined, local: string): XmlElement | undefined {
  return el?.children.find((c) => c.local === local);
}

export function children(el: XmlElement | undefined, local: string): XmlElement[] {
  return el?.children.filter((c) => c.local === local) ?? [];
}

/** Trimmed text of a child element, or undefined when the child is absent or empty. */
export function childText(el: XmlElement | undefined, local: string): string | undefined {
  const c = child(el, local);
  if (c === undefined) return undefined;
  const t = c.text.trim();
  return t === "" ? undefined : t;
}

/** An attribute by local name (`p4:type`, `i:type` and `type` all match "type"). */
export function attr(el: XmlElement | undefined, local: string): string | undefined {
  if (!el) return undefined;
  for (const [k, v] of Object.entries(el.attrs))
    if (localName(k) === local && !k.startsWith("xmlns")) return v;
  return undefined;
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

export type XmlContent = string | number | boolean | undefined | readonly XmlContent[] | RawXml;

/** Already-serialized markup, inserted verbatim. */
export class RawXml {
  constructor(readonly markup: string) {}
}

function render(content: XmlContent): string {
  if (content === undefined) return "";
  if (content instanceof RawXml) return content.markup;
  if (typeof content === "string" || typeof content === "number" || typeof content === "boolean") {
    return escapeXml(String(content));
  }
  return content.map(render).join("");
}

/**
 * `<name attrs>content</name>`; content strings are escaped, RawXml is not. Undefined content
 * (not an empty string) renders nothing at all, so optional elements can be passed through.
 */
export function el(
  name: string,
  content: XmlContent,
  attrs: Readonly<Record<string, string | undefined>> = {},
): RawXml {
  const a = Object.entries(attrs)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join("");
  const body = render(content);
  return new RawXml(body === "" ? `<${name}${a}/>` : `<${name}${a}>${body}</${name}>`);
}

/** An element only when the value is defined. */
export function opt(name: string, value: string | number | boolean | undefined): RawXml | undefined {
  return value === undefined ? undefined : el(name, String(value));
}

export function xmlDocument(root: RawXml): string {
  return `<?xml version="1.0" encoding="utf-8"?>${root.markup}`;
}
