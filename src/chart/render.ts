import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { TopLevelSpec } from "vega-lite";

/**
 * A vega-lite spec to SVG and PNG, offline and headless: vega-lite compiles it, a vega View
 * with no renderer draws it as SVG text (no canvas, no browser), and resvg rasterises that
 * with fonts it is given, so text looks the same wherever it runs. The three are loaded on
 * first use: vega alone takes more than a second to import, which no other CLI verb should pay.
 */

const SYSTEM_FONTS = "/usr/share/fonts/truetype/dejavu";
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"];

/**
 * DejaVu Sans from the system when it is installed, else the copy shipped in the
 * dejavu-fonts-ttf package: resvg draws no text at all without a font.
 */
export function chartFonts(): { files: string[]; source: "system" | "package" } {
  const system = FONT_FILES.map((f) => path.join(SYSTEM_FONTS, f));
  if (system.every((f) => existsSync(f))) return { files: system, source: "system" };
  const require = createRequire(import.meta.url);
  return { files: FONT_FILES.map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`)), source: "package" };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export type Png = { png: Buffer; svg: string; width: number; height: number };

/** The spec drawn as a PNG of the SVG's own size (`scale` 2 doubles both sides). */
export async function renderPng(spec: TopLevelSpec, options: { scale?: number } = {}): Promise<Png> {
  const [svg, { Resvg }] = await Promise.all([renderSvg(spec), import("@resvg/resvg-js")]);
  const fonts = chartFonts();
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: options.scale ?? 1 },
    background: "white",
    font: {
      loadSystemFonts: false,
      fontFiles: fonts.files,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
  });
  const image = resvg.render();
  return { png: image.asPng(), svg, width: image.width, height: image.height };
}
