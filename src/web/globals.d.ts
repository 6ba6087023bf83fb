/** Replaced at build time by scripts/build-web.mjs with the package version. */
declare const __PINCER_VERSION__: string;
