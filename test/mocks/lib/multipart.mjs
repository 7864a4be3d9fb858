// Minimal multipart/form-data parser for the mock providers (Node only).
//
// parseMultipart(buffer, contentType) → { fields: {name: string | string[]}, files: {name: {filename,
// size, contentType, data}} } or null when the content type has no boundary. Repeated field names
// (e.g. `timestamp_granularities[]`) collect into an array. `data` (a Buffer) is kept for the
// handlers and stripped before a request is recorded.

export function boundaryOf(contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || "");
  return m ? (m[1] || m[2]).trim() : null;
}

function parseHeaders(text) {
  const headers = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function dispositionParam(disposition, name) {
  const re = new RegExp(`(?:^|;)\\s*${name}\\*?=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, "i");
  const m = re.exec(disposition || "");
  if (!m) return undefined;
  return (m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]).trim();
}

export function parseMultipart(buf, contentType) {
  const boundary = boundaryOf(contentType);
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary}`);
  const fields = {};
  const files = {};
  let pos = buf.indexOf(delimiter);
  if (pos < 0) return { fields, files, malformed: true };
  for (;;) {
    pos += delimiter.length;
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) break; // closing "--boundary--"
    if (buf[pos] === 0x0d && buf[pos + 1] === 0x0a) pos += 2;
    const headerEnd = buf.indexOf("\r\n\r\n", pos);
    if (headerEnd < 0) return { fields, files, malformed: true };
    const headers = parseHeaders(buf.subarray(pos, headerEnd).toString("utf8"));
    const next = buf.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4);
    if (next < 0) return { fields, files, malformed: true };
    const data = buf.subarray(headerEnd + 4, next);
    const disposition = headers["content-disposition"];
    const name = dispositionParam(disposition, "name");
    const filename = dispositionParam(disposition, "filename");
    if (name !== undefined) {
      if (filename !== undefined) {
        files[name] = { filename, size: data.length, contentType: headers["content-type"] || null, data };
      } else {
        const value = data.toString("utf8");
        if (name in fields) fields[name] = [].concat(fields[name], value);
        else fields[name] = value;
      }
    }
    pos = next + 2;
  }
  return { fields, files };
}

/** The multipart result as recorded: file `data` buffers dropped. */
export function describeMultipart(mp) {
  const files = {};
  for (const [name, f] of Object.entries(mp.files)) files[name] = { filename: f.filename, size: f.size, contentType: f.contentType };
  return mp.malformed ? { fields: mp.fields, files, malformed: true } : { fields: mp.fields, files };
}
