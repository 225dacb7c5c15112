/** One sample's value from Prometheus text ("name{labels} value"), by name and the labels it has. */
export function sample(text: string, name: string, ...labels: string[]): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) =>
        (l.startsWith(`${name}{`) && labels.every((label) => l.includes(label))) ||
        (labels.length === 0 && l.startsWith(`${name} `)),
    );
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
