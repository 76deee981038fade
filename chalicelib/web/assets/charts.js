// Small SVG bar charts for the reports; labels are text nodes like everything else, numbers in the
// console's locale. title: the chart's accessible name (from a catalog).
import {svg} from "./dom.js";
import {format} from "./i18n.js";

export function barChart({id, title, labels, values, width = 560, height = 180}) {
  const top = 10, bottom = 22, left = 28;
  const max = Math.max(1, ...values);
  const slot = (width - left) / Math.max(1, values.length);
  const chart = svg("svg", {id, class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title});
  chart.append(svg("text", {x: 0, y: top + 4, class: "axis"}, format.number(max)),
               svg("text", {x: 0, y: height - bottom, class: "axis"}, format.number(0)));
  values.forEach((value, index) => {
    const barHeight = ((height - top - bottom) * value) / max;
    const x = left + index * slot;
    chart.append(
      svg("rect", {class: "bar", x: x + slot * 0.15, y: height - bottom - barHeight, width: slot * 0.7,
                   height: barHeight, "data-value": value},
          svg("title", {}, `${labels[index]}: ${format.number(value)}`)),
      svg("text", {class: "label", x: x + slot / 2, y: height - 6, "text-anchor": "middle"}, labels[index]));
  });
  return chart;
}
