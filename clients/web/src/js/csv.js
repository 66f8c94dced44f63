// Splits CSV text into records (RFC 4180: quoted fields may hold commas,
// doubled quotes and newlines) without parsing the fields: the server parses
// and validates every row; the console only cuts the file into batches to show
// progress.
export function csvRecords(text) {
  const records = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) {
      records.push(text.slice(start, i).replace(/\r$/, ''));
      start = i + 1;
    }
  }
  if (start < text.length) records.push(text.slice(start).replace(/\r$/, ''));
  return records.filter((r) => r.trim() !== '');
}

// Header plus data rows → batches of at most `size` rows, each a CSV text
// starting with the header, with the row number of its first data row (1-based).
export function csvBatches(text, size) {
  const [header, ...rows] = csvRecords(text);
  const batches = [];
  for (let i = 0; i < rows.length; i += size) {
    const part = rows.slice(i, i + size);
    batches.push({ firstRow: i + 1, rows: part.length, text: `${[header, ...part].join('\n')}\n` });
  }
  return { header, rowCount: rows.length, batches };
}
