// Draws every chart on the page from its Vega-Lite spec (a JSON data block, not script).
// Expressions run in vega-interpreter, so no `eval` is needed under the page's
// Content-Security-Policy; vega-embed and vega-tooltip are told not to add their own <style>
// elements (inline styles, which the policy refuses), and app.css styles them instead. A
// chart's table stays on the page; once the chart is drawn the table folds away behind its
// "Table:" summary, and opens again with a click.
import { expressionInterpreter } from './vega/vega-interpreter.js';

for (const el of document.querySelectorAll('[data-chart]')) {
  const data = document.getElementById(el.dataset.chart);
  if (!data) continue;
  const spec = JSON.parse(data.textContent);
  window.vegaEmbed(el, spec, {
    actions: false, renderer: 'svg', ast: true, expr: expressionInterpreter,
    defaultStyle: false, tooltip: { disableDefaultStyle: true },
  })
    .then(() => {
      el.dataset.rendered = 'true';
      const details = el.closest('figure')?.querySelector('details.phm-chart__table');
      if (details) details.open = false;
    })
    .catch((error) => {
      el.dataset.rendered = 'error';
      el.textContent = 'The chart could not be drawn; the table has the same figures.';
      console.error(error);
    });
}
