// Headless rendering: Vega-Lite → Vega → SVG string (vega's node renderer, no browser), SVG → PNG (resvg).
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A loader that refuses every URL: report specs carry their data inline and must never fetch. */
const offlineLoader = (): vega.Loader => {
  const refuse = async (uri: string): Promise<never> => {
    throw new Error(`report figures load no external resources (asked for ${uri})`);
  };
  return { ...vega.loader(), load: refuse, sanitize: refuse, http: refuse, file: refuse } as vega.Loader;
};

/** Render a Vega-Lite spec to a standalone SVG document string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), {
    renderer: 'none',
    loader: offlineLoader(),
    logLevel: vega.Warn,
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterize an SVG to PNG at `scale` × its size, with system fonts (DejaVu/Liberation/Arial). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/**
 * Make an SVG safe to inline next to others in one HTML page: prefix every id (vega names its
 * clip paths and gradients clip1, gradient_0, … in each figure) and every reference to it.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  return svg
    .replace(/\sid="([^"]+)"/g, (_, id: string) => ` id="${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (whole, id: string) => (ids.has(id) ? `url(#${prefix}${id})` : whole))
    .replace(/href="#([^"]+)"/g, (whole, id: string) => (ids.has(id) ? `href="#${prefix}${id}"` : whole));
}
