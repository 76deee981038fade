// Small SVG bar charts for the dashboard; labels are text nodes like everything else.
import {svg} from "./dom.js";

export function barChart({id, title, labels, values, width = 560, height = 180, unit = ""}) {
  const top = 10, bottom = 22, left = 28;
  const max = Math.max(1, ...values);
  const slot = (width - left) / Math.max(1, values.length);
  const chart = svg("svg", {id, class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title});
  chart.append(svg("text", {x: 0, y: top + 4, class: "axis"}, String(max)),
               svg("text", {x: 0, y: height - bottom, class: "axis"}, "0"));
  values.forEach((value, index) => {
    const barHeight = ((height - top - bottom) * value) / max;
    const x = left + index * slot;
    chart.append(
      svg("rect", {class: "bar", x: x + slot * 0.15, y: height - bottom - barHeight, width: slot * 0.7,
                   height: barHeight, "data-value": value},
          svg("title", {}, `${labels[index]}: ${value}${unit}`)),
      svg("text", {class: "label", x: x + slot / 2, y: height - 6, "text-anchor": "middle"}, labels[index]));
  });
  return chart;
}
