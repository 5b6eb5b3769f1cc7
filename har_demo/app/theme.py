"""How the page looks: the Gradio theme, the CSS and the start-up script (launch() takes them)."""

from __future__ import annotations

import gradio as gr

TITLE = "Human activity recognition: ConvLSTM vs LRCN"

THEME = gr.themes.Soft(primary_hue="blue", secondary_hue="orange", text_size="lg")

CSS = """
.gradio-container { max-width: 1400px !important; margin: 0 auto; }
#verdict, #verdict p, #verdict strong { font-size: 1.6rem; line-height: 1.3; }
#verdict { min-height: 2.2em; }
#verdict p { margin: 0.2em 0; }
#frames img, #misclassified img { image-rendering: pixelated; }
/* the galleries' label sits above the images, not over the first row (the Gallery floats it) */
#frames > [data-testid="block-label"].float, #misclassified > [data-testid="block-label"].float {
  position: static; margin: 0 0 var(--spacing-md, 6px) 0; }
#frames .grid-wrap > .icon-button-wrapper, #misclassified .grid-wrap > .icon-button-wrapper {
  top: auto; bottom: calc(100% + 6px); }
#frames .grid-wrap.fixed-height, #misclassified .grid-wrap.fixed-height { min-height: 0; max-height: none; }
#frames .caption-label { font-size: 0.72rem; left: 2px; right: 2px; bottom: 2px; max-width: none; text-align: center; padding: 1px 2px; opacity: 0.92; }
#misclassified .thumbnail-item { aspect-ratio: auto; height: auto; display: flex; flex-direction: column; }
#misclassified .thumbnail-item img { height: auto; }
#misclassified .caption-label { position: static; max-width: none; white-space: normal; opacity: 1;
  border: none; border-radius: 0; font-size: 0.9rem; }
#header p { margin: 0.1em 0; }
.small-note { font-size: 0.9rem; opacity: 0.85; }
.prose table { display: block; overflow-x: auto; width: max-content; max-width: calc(100vw - 72px); border: none; }
.prose table th, .prose table td { white-space: nowrap; }
#layers .prose table { font-size: 0.9rem; }
#layers, #segments { flex-wrap: wrap; }
#layers > *, #segments > * { flex: 1 1 340px; min-width: min(340px, 100%); }
/* players: the label sits above the video, not over the labels drawn at the top of an annotated one
   (the block then grows by the label, instead of cutting off the player's controls) */
#annotated-video, #clip-annotated-video, #long-video { height: auto !important; }
#annotated-video > [data-testid="block-label"], #clip-annotated-video > [data-testid="block-label"],
#long-video > [data-testid="block-label"], #cam-convlstm > [data-testid="block-label"],
#cam-lrcn > [data-testid="block-label"], #live-frames > [data-testid="block-label"] {
  position: static; margin: 0 0 var(--spacing-md, 6px) 0; }
/* the Live tab's presenter view (live_tab.PRESENT_JS puts the class on #live-stage): camera, verdict,
   bars and numbers fill the screen. (Gradio scopes this CSS inside its container, so no `body` here.) */
#live-top { align-items: flex-start; }
#live-leave { display: none; }
#live-stage.har-present {
  position: fixed; inset: 0; z-index: 1000; overflow: auto; overscroll-behavior: contain; margin: 0;
  padding: 12px 20px; background: var(--body-background-fill); display: grid; gap: 10px 28px;
  align-content: start; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
  grid-template-rows: repeat(4, max-content);  /* never squeezed below their content: the stage scrolls */
  grid-template-areas: "leave leave" "camera verdict" "camera bars" "camera stats"; }
#live-stage.har-present #live-main, #live-stage.har-present #live-camera-column,
#live-stage.har-present #live-answer-column { display: contents; }
#live-stage.har-present #live-camera-picker, #live-stage.har-present .form:has(#live-threshold) { display: none; }
#live-stage.har-present #live-leave { display: inline-flex; grid-area: leave; justify-self: end; width: auto; }
#live-stage.har-present #live-camera { grid-area: camera; align-self: start; }
#live-stage.har-present #live-verdict { grid-area: verdict; min-height: 0; }
#live-stage.har-present #live-bars { grid-area: bars; }
#live-stage.har-present #live-stats { grid-area: stats; }
#live-stage.har-present #live-stats p { font-size: clamp(1rem, 1.3vw, 1.8rem); }
#live-stage.har-present #live-verdict h3 { font-size: clamp(1.7rem, 3vw, 4.2rem); line-height: 1.1; margin: 0 0 0.25em; }
#live-stage.har-present #live-verdict li { font-size: clamp(1.05rem, 1.6vw, 2.2rem); line-height: 1.25; }
#live-stage.har-present #live-verdict small { display: none; }
#live-stage.har-present #live-bars .output-class { font-size: clamp(1.1rem, 2vw, 2.6rem); }
#live-stage.har-present #live-bars dt, #live-stage.har-present #live-bars dd { font-size: clamp(1rem, 1.5vw, 2rem); }
#live-stage.har-present #live-verdict { overflow: visible !important; }
@media (max-width: 700px) {  /* a phone: one column, the verdict above the camera */
  #live-stage.har-present { padding: 6px 10px; gap: 6px; display: flex; flex-direction: column; }
  #live-stage.har-present > *, #live-stage.har-present #live-camera, #live-stage.har-present #live-verdict,
  #live-stage.har-present #live-bars, #live-stage.har-present #live-stats { flex: none; }
  #live-stage.har-present #live-leave { order: 0; align-self: flex-end; }
  #live-stage.har-present #live-verdict { order: 1; }
  #live-stage.har-present #live-camera { order: 2; }
  #live-stage.har-present #live-bars { order: 3; }
  #live-stage.har-present #live-stats { order: 4; }
  #live-stage.har-present #live-verdict h3 { font-size: 1.5rem; }
  #live-stage.har-present #live-verdict li { font-size: 1rem; }
  #live-stage.har-present #live-bars .output-class { display: none; }  /* the verdict above says it */
  #live-stage.har-present #live-bars [data-testid="block-label"] { position: static; }
  #live-stage.har-present #live-bars dt, #live-stage.har-present #live-bars dd { font-size: 0.75rem; }
  #live-stage.har-present #live-bars .line { display: none; }
  #live-stage.har-present #live-bars dl { justify-content: space-between; gap: 4px; }
}
@media (max-width: 700px) {
  .prose table th, .prose table td { padding: 4px 8px; }
  #verdict, #verdict p, #verdict strong { font-size: 1.25rem; }
  h1 { font-size: 1.5rem !important; }
  .tab-container button { padding: 0 0.4rem !important; font-size: 0.9rem !important; }
  /* the gallery's columns are at least 100 px: three of them and their gaps widened a phone's page by 6 px */
  #frames .grid-container { --grid-cols: 3 !important; grid-template-columns: repeat(3, minmax(0, 1fr)) !important; }
  #frames .caption-label { font-size: 0.62rem; }
  #misclassified .grid-container { --grid-cols: 1 !important; }
}
"""

# Browsers cannot play XVID .avi (UCF50's codec) and the player says "Video not playable" in an
# error toast; the app answers with an H.264 preview a moment later (media.TempFiles.preview) and
# explains real problems in the page, so that one toast is closed as soon as it appears.
JS = """
() => {
  const close = () => document.querySelectorAll('[data-testid="toast-body"]').forEach((toast) => {
    if (toast.innerText.includes('Video not playable')) toast.querySelector('[data-testid="toast-close"]')?.click();
  });
  new MutationObserver(close).observe(document.body, { childList: true, subtree: true });
}
"""
