/**
 * LIKE patterns: `%` is any run of characters, `_` exactly one, and the optional one-character
 * ESCAPE makes the next character literal. Matching is case-sensitive and over UTF-16 code
 * units, as .NET strings are. Patterns become anchored regular expressions once, at compile
 * time when they are constants.
 */

const REGEXP_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

export function likeToRegExp(pattern: string, escape: string | undefined): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (escape !== undefined && ch === escape && i + 1 < pattern.length) {
      i++;
      source += literal(pattern.charAt(i));
    } else if (ch === "%") {
      source += "[\\s\\S]*";
    } else if (ch === "_") {
      source += "[\\s\\S]";
    } else {
      // A trailing escape character has nothing to escape and stands for itself.
      source += literal(ch);
    }
  }
  return new RegExp(`^${source}$`);
}

function literal(ch: string): string {
  return ch.replace(REGEXP_SPECIAL, "\\$&");
}

const CACHE_LIMIT = 64;

/** For patterns computed per message: a small per-call-site cache keeps repeated ones cheap. */
export class LikeCache {
  private readonly entries = new Map<string, RegExp>();

  get(pattern: string, escape: string | undefined): RegExp {
    const key = escape === undefined ? `0${pattern}` : `1${escape}${pattern}`;
    let regexp = this.entries.get(key);
    if (regexp === undefined) {
      regexp = likeToRegExp(pattern, escape);
      if (this.entries.size >= CACHE_LIMIT) this.entries.clear();
      this.entries.set(key, regexp);
    }
    return regexp;
  }
}
