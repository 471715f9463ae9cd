// Index names with a date in them, as Beats and Logstash write them: `vigil-events-%{+yyyy.MM.dd}` is the event's
// UTC day. Tokens: yyyy, yy, MM, dd, HH; anything else in the braces is kept as it is.
export function indexName(pattern: string, timestamp: number): string {
  if (!pattern.includes('%{+')) return pattern;
  const d = new Date(Number.isFinite(timestamp) ? timestamp : 0);
  const pad = (n: number) => String(n).padStart(2, '0');
  return pattern.replace(/%\{\+([^}]*)\}/g, (_, format: string) =>
    format.replace(/yyyy|yy|MM|dd|HH/g, (token) => {
      switch (token) {
        case 'yyyy':
          return String(d.getUTCFullYear());
        case 'yy':
          return pad(d.getUTCFullYear() % 100);
        case 'MM':
          return pad(d.getUTCMonth() + 1);
        case 'dd':
          return pad(d.getUTCDate());
        default:
          return pad(d.getUTCHours());
      }
    }),
  );
}
