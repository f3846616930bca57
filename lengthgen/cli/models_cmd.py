"""``lengthgen models list``."""

from __future__ import annotations

from lengthgen.tables import render_table

REFERENCE_VOCAB = 32  # parameter counts depend on the vocabulary; report at a typical size


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda args: p.print_help() or 2)
    ls = msub.add_parser("list", help="table of registered models with default sizes")
    ls.add_argument(
        "--format", default="github", choices=("github", "plain", "csv"), help="table format (default: github)"
    )
    ls.set_defaults(func=cmd_list)


def cmd_list(args) -> int:
    from lengthgen.models import MODEL_PROVIDERS, MODELS, build_model
    from lengthgen.plugins import ensure_model

    for name in MODEL_PROVIDERS:
        ensure_model(name)
    rows = []
    for name in MODELS:
        spec = MODELS.get(name)
        if not spec.trainable:  # written for a program: no default size
            rows.append([name, spec.description, "-", "-"])
            continue
        model = build_model(name, REFERENCE_VOCAB)
        rows.append([name, spec.description, f"{model.num_parameters():,}", f"{model.flops_per_token(32) / 1e6:.2f}"])
    headers = ["name", "description", f"parameters (vocab {REFERENCE_VOCAB})", "MFLOPs/token @32"]
    print(render_table(headers, rows, args.format))
    return 0
