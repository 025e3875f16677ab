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
export function chartFonts(systemDir = SYSTEM_FONTS): { files: string[]; source: "system" | "package" } {
  const system = FONT_FILES.map((f) => path.join(systemDir, f));
  if (system.every((f) => existsSync(f))) return { files: system, source: "system" };
  const require = createRequire(import.meta.url);
  return { files: FONT_FILES.map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`)), source: "package" };
}

/**
 * The spec drawn as SVG text. vega-lite's and vega's warnings (a dropped property, a scale
 * conflict) are collected rather than printed: the CLI's stderr is for its own one-line
 * errors, and the tests expect none.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<{ svg: string; warnings: string[] }> {
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, _level, args) => {
    warnings.push(args.map(String).join(" "));
  });
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), { renderer: "none", logger });
  try {
    return { svg: await view.toSVG(), warnings };
  } finally {
    view.finalize();
  }
}

export type Png = { png: Buffer; svg: string; width: number; height: number; warnings: string[] };

/** The spec drawn as a PNG of the SVG's own size (`scale` 2 doubles both sides). */
export async function renderPng(spec: TopLevelSpec, options: { scale?: number } = {}): Promise<Png> {
  const [{ svg, warnings }, { Resvg }] = await Promise.all([renderSvg(spec), import("@resvg/resvg-js")]);
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
  return { png: image.asPng(), svg, width: image.width, height: image.height, warnings };
}
