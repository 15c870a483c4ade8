"""ONNX export, and a recognizer that runs the exported file with ONNX Runtime.

The exported graph takes the padded batch and each line's true width, like the PyTorch
model, so results match it (read in fp32) line for line; the alphabet, config and the
model's own language model travel in the file's metadata, so the .onnx file alone is
enough to read.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from inkread import torchfile
from inkread.alphabet import Alphabet
from inkread.data.batches import READING_WIDTH
from inkread.errors import InkreadError, MissingFile, hushed
from inkread.lm import NGramModel
from inkread.lstm_lm import LSTMModel
from inkread.model import checkpoint
from inkread.model.config import ModelConfig, in_file
from inkread.recognize import Recognizer, check_device

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

# For those who run the file without inkread (docs/onnx.md has a whole example): in the
# file, as tools such as Netron show a model's doc_string.
USAGE = (
    "inkread text-line recognizer (CNN, bidirectional GRU or LSTM as inkread_config's rnn "
    "says, CTC). Input 'images': float32 (batch, 1, "
    "height, width). Each line, in 8-bit gray (where inkread_config says trim: true, first "
    "without the empty rows above and below its writing), is scaled to inkread_config's "
    f"height, its aspect kept, widened by its stretch, at most {READING_WIDTH} wide (the "
    "config's max_width caps training lines only; OpenCV "
    "INTER_AREA to shrink, INTER_LINEAR to enlarge); where inkread_config gives a width (the "
    "seed preset's 32 x 128 box), it is scaled to fit inside height x width instead, aspect "
    "kept, set at the box's left and centred between its top and bottom, the rest filled "
    "with the line's median gray; then the paper goes to 0 and the ink "
    "towards 1: clip((p80 - gray) / max(p80 - p1, 48), 0, 1), with p80 and p1 the line's "
    "80th and 1st percentiles (light writing on dark, median p50 < 128 and p99 - p50 > "
    "2 (p50 - p1), is first turned over: 255 - gray); lines are padded on the right with 0. "
    "Input 'widths': int64 "
    "(batch), each line's width before padding. Output 'scores': (batch, frames, classes) "
    "logits; line i has widths[i] // inkread_width_reduction frames (at least 1), the rest is "
    "padding. Class 0 is the CTC blank, class c the character inkread_alphabet[c - 1]: take "
    "the best class of each frame, merge repeats, drop blanks, strip the spaces at the "
    "ends and write a run of spaces as one. Right-to-left text comes out "
    "as it stands on the page (left to right); inkread_right_to_left is the direction of "
    "the lines it learnt (true, false, or null where none read right to left), the "
    "paragraph direction that turns a line into reading order unless all its letters read "
    "the other way. inkread_lm is the model's character n-gram "
    "(ARPA, a token a character, the space written <sp>) for beam search, used by "
    "`inkread read --model this.onnx`."
)


def export_onnx(model_spec: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """The model (a bundled name or a checkpoint file) written to out, an .onnx file: by that
    name it is told from a checkpoint when read, and no other file (the checkpoint itself,
    a scan) is written over, as a Python caller's export_onnx("c.pt", "c.pt") had been."""
    if not isinstance(model_spec, (str, os.PathLike)):  # a loaded Recognizer: a TypeError
        raise InkreadError(
            f"export_onnx takes a model's name or checkpoint file, not {type(model_spec).__name__}"
        )
    if Path(out).suffix.lower() != ".onnx":  # --model tells an ONNX file by its name
        raise InkreadError("an ONNX model is read by its .onnx name: give one", out)
    try:  # torch.onnx writes the file through it; without it a plain install got a traceback
        import onnx
    except ModuleNotFoundError:
        raise InkreadError("exporting to ONNX needs onnx: pip install 'inkread[onnx]'") from None
    model, alphabet, blob = checkpoint.load(model_spec)
    config = model.config
    width = config.width or 4 * config.height
    images = torch.zeros(2, 1, config.height, width)
    widths = torch.tensor([width, width // 2])
    out = Path(out)
    exported = io.BytesIO()  # in memory, then written whole: a run killed while it wrote
    # over a good model (the graph first, then its metadata) left one that does not load
    # torch warns that an LSTM exported at batch 2 may fail at other batch sizes when its
    # initial states are fixed; ours are not given, and the ONNX model reads as the
    # checkpoint does at any batch size (tests/test_cli.py). And the TorchScript exporter is
    # asked for (dynamo=False), which torch says is old, and whose own logging it says
    # will go; and the tracer warns of torch's own checks of the RNN's input shape, which
    # hold for any input (under -W error, as `python -X dev` shows them, export had stopped).
    with (
        hushed(UserWarning, "Exporting a model to ONNX with a batch_size"),
        hushed(DeprecationWarning, ".*TorchScript-based ONNX export"),
        hushed(DeprecationWarning, "The feature will be removed"),
        hushed(torch.jit.TracerWarning, "Converting a tensor to a Python boolean"),
    ):
        torch.onnx.export(
            model,
            (images, widths),
            exported,
            input_names=["images", "widths"],
            output_names=["scores"],
            dynamic_axes={
                "images": {0: "batch", 3: "width"},
                "widths": {0: "batch"},
                "scores": {0: "batch", 1: "time"},
            },
            opset_version=17,
            dynamo=False,
        )
    graph = onnx.load_model_from_string(exported.getvalue())
    graph.doc_string = USAGE
    props = {
        "inkread_config": json.dumps(config.to_dict()),
        "inkread_alphabet": json.dumps(alphabet.chars),
        "inkread_width_reduction": str(config.width_reduction),
        # where its lines read right to left: the way a line of no letters reads
        "inkread_right_to_left": json.dumps(alphabet.right_to_left),
        # its data by file name: the file is made to be shipped, the trainer's paths not
        "inkread_meta": json.dumps(checkpoint.shareable(blob.get("meta", {})), default=str),
        "inkread_usage": USAGE,
    }
    lm = checkpoint.own_lm(blob, model_spec)
    if isinstance(lm, LSTMModel):  # its weights as base64 of the torch file
        buffer = io.BytesIO()
        torch.save(lm.to_dict(), buffer)
        props["inkread_lstm_lm"] = base64.b64encode(buffer.getvalue()).decode("ascii")
        lm = lm.ngram
    if lm is not None:  # so that the .onnx file reads as the checkpoint does
        props["inkread_lm"] = lm.to_arpa()
    for key, value in props.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    torchfile.write_whole(out, lambda f: f.write(graph.SerializeToString()))
    return out


class OnnxRecognizer(Recognizer):
    """The same interface as Recognizer, with ONNX Runtime doing the network's work."""

    def __init__(
        self,
        session: InferenceSession,
        config: ModelConfig,
        alphabet: Alphabet,
        meta: dict,
        lm: NGramModel | LSTMModel | None = None,
    ) -> None:
        self.session = session
        self.path: Path | None = None  # the file, for a session that shows more (feature_maps)
        self._config = config
        self.alphabet = alphabet
        self.meta = meta
        self.lm = lm
        self.device = torch.device("cpu")
        self.alone = False  # read a line at a time (exported before 99fa5e3: load)

    @property
    def config(self) -> ModelConfig:
        return self._config

    @classmethod
    def load(cls, spec: str | os.PathLike[str], device: str = "cpu") -> OnnxRecognizer:
        try:
            import onnxruntime
        except ModuleNotFoundError:
            raise InkreadError(
                "reading .onnx models needs onnxruntime: pip install 'inkread[onnx]'"
            ) from None
        path = Path(spec)
        if not path.is_file():
            raise MissingFile("no such model file", path)
        cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        device = check_device(device)  # a torch.device or None as its name
        if device.startswith("cuda") and not cuda:
            raise InkreadError(
                f"--device {device}: this onnxruntime has no CUDA (pip install onnxruntime-gpu)"
            )
        providers: list = ["CPUExecutionProvider"]
        if cuda and device != "cpu":
            gpu = device.partition(":")[2]
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": int(gpu)} if gpu else {}))
        options = onnxruntime.SessionOptions()
        if os.environ.get("OMP_WAIT_POLICY", "").upper() != "ACTIVE":
            # its threads wait asleep, as torch's do (inkread/__init__.py): spinning, they
            # took the cores a shared machine's other work needed (BENCHMARKS.md, "Reading in
            # bf16 or fp32, and the ONNX export")
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=providers
            )
            props = session.get_modelmeta().custom_metadata_map
            meta = json.loads(props.get("inkread_meta", "{}"))
            config = ModelConfig.saved(json.loads(props["inkread_config"]), meta.get("inkread"))
            base = json.loads(props.get("inkread_right_to_left", "null"))
            alphabet = Alphabet(json.loads(props["inkread_alphabet"]), base)
            inputs = {x.name: x.shape for x in session.get_inputs()}
            if set(inputs) != {"images", "widths"}:  # a traceback at the first line read
                raise InkreadError(
                    f"its network takes {', '.join(sorted(inputs))}, not inkread's images and "
                    "widths: the file is damaged, or another program's"
                )
            high = inputs["images"][2] if len(inputs["images"]) == 4 else None
            if isinstance(high, int) and high != config.height:
                raise InkreadError(
                    f"its network takes lines {high} pixels high, its settings say "
                    f"{config.height}: the file is damaged"
                )
            classes = session.get_outputs()[0].shape[-1]
            if isinstance(classes, int) and classes != len(alphabet.chars) + 1:
                # one short had a traceback at the first line read, one long read wrong letters
                raise InkreadError(
                    f"its alphabet of {len(alphabet.chars)} does not fit the network's "
                    f"{classes - 1} characters: the file is damaged"
                )
        except InkreadError as e:
            raise in_file(e, path) from None
        except KeyError as e:
            raise InkreadError(
                f"not an inkread ONNX model (no {e.args[0]} in its metadata: another "
                "program's? `inkread export` makes one)",
                path,
            ) from None
        except ValueError as e:
            raise InkreadError(f"not an inkread ONNX model ({e})", path) from None
        except Exception as e:  # onnxruntime raises its own types for broken files
            raise InkreadError(f"cannot load ONNX model ({_why(path, e)})", path) from None
        lm = NGramModel.from_arpa(props["inkread_lm"], path) if "inkread_lm" in props else None
        if "inkread_lstm_lm" in props:
            try:
                saved = base64.b64decode(props["inkread_lstm_lm"])
                weights = torch.load(io.BytesIO(saved), map_location="cpu", weights_only=True)
            except Exception as e:  # torch's unpickler: a KeyError of a byte, a traceback
                why = type(e).__name__
                raise InkreadError(f"its LSTM language model is damaged ({why})", path) from None
            lm = LSTMModel.from_dict(weights, lm, path)
        recognizer = cls(session, config, alphabet, meta, lm)
        recognizer.path = path
        # exported before inkread cleared the padding past each line (2ca038a), a file
        # read a line differently in a batch than alone (a page's lines, 2 of 35): the
        # metadata added two hours later tells those files apart, read a line at a time
        recognizer.alone = "inkread_width_reduction" not in props
        return recognizer

    def log_probs(self, batch: torch.Tensor, widths: torch.Tensor) -> list[np.ndarray]:
        if self.alone and len(batch) > 1:
            return [
                self.log_probs(batch[i : i + 1, ..., : int(w)], widths[i : i + 1])[0]
                for i, w in enumerate(widths.tolist())
            ]
        (scores,) = self.session.run(None, {"images": batch.numpy(), "widths": widths.numpy()})
        return self._per_line(torch.from_numpy(scores).log_softmax(-1).numpy(), widths)

    def feature_maps(
        self, batch: torch.Tensor, widths: torch.Tensor
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Each conv block's activations for the batch's first line, and the log-probs, as
        the checkpoint's hooks give them (explain): the graph is run once more with its
        LeakyRelu outputs, which the export names after the CNN's layers, made outputs."""
        import onnx
        import onnxruntime

        graph = onnx.load(str(self.path))
        blocks = [n.output[0] for n in graph.graph.node if n.op_type == "LeakyRelu"]
        graph.graph.output.extend(onnx.ValueInfoProto(name=name) for name in blocks)
        session = onnxruntime.InferenceSession(
            graph.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        scores, *maps = session.run(None, {"images": batch.numpy(), "widths": widths.numpy()})
        log_probs = self._per_line(torch.from_numpy(scores).log_softmax(-1).numpy(), widths)
        return [m[0] for m in maps], log_probs


def _why(path: Path, e: Exception) -> str:
    """onnxruntime names its error's kind only (InvalidProtobuf): what the file is instead."""
    if type(e).__name__ not in ("InvalidProtobuf", "InvalidArgument"):  # its bytes, its graph
        return type(e).__name__
    with path.open("rb") as f:
        head = f.read(2)
    if not head:
        return "the file is empty"
    if head == b"PK":  # torch's zip
        return "a torch checkpoint, not ONNX: name it .pt"
    return "the file is cut short or damaged, or no ONNX model"
