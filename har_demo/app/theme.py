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
@media (max-width: 700px) {
  .prose table th, .prose table td { padding: 4px 8px; }
  #verdict, #verdict p, #verdict strong { font-size: 1.25rem; }
  h1 { font-size: 1.5rem !important; }
  .tab-container button { padding: 0 0.4rem !important; font-size: 0.9rem !important; }
  #frames .grid-container { --grid-cols: 3 !important; }
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
