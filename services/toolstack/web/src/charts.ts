// Rolling time-series charts of the per-disk figures (uPlot, loaded by the page as a global).

const WINDOW_S = 120;

export interface SeriesChart {
  push(t: number, values: Array<number | null>): void;
  readonly element: HTMLElement;
}

/** A chart of `labels.length` series over the last two minutes. */
export function seriesChart(title: string, labels: string[], unit: string): SeriesChart {
  const element = document.createElement("div");
  element.className = "chart";
  const h = document.createElement("h4");
  h.textContent = title;
  element.append(h);
  const data: Array<Array<number | null>> = [[], ...labels.map(() => [])];
  const colors = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a"];
  const plot = new uPlot(
    {
      width: 420,
      height: 160,
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 60 }],
      series: [{}, ...labels.map((label, i) => ({ label, stroke: colors[i % colors.length], width: 1.5 }))],
      legend: { show: true },
    },
    data as uPlot.AlignedData,
    element,
  );
  return {
    element,
    push(t, values) {
      data[0]!.push(t);
      values.forEach((v, i) => data[i + 1]!.push(v));
      while (data[0]!.length > 0 && (data[0]![0] as number) < t - WINDOW_S) for (const s of data) s.shift();
      plot.setData(data as uPlot.AlignedData);
    },
  };
}
