"""Element sizes of the dtypes a spec may name."""

DTYPE_BYTES = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2,
    "int64": 8, "int32": 4, "int16": 2, "int8": 1, "uint8": 1,
}
DTYPE_ALIASES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16", "fp64": "float64",
                 "half": "float16", "float": "float32", "double": "float64"}


def canonical_dtype(name: str) -> str | None:
    name = DTYPE_ALIASES.get(name, name)
    return name if name in DTYPE_BYTES else None
