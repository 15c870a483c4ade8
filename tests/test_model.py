"""The seed network is the notebook's; the line network takes any width; checkpoints load alone."""

import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from conftest import FIXTURES
from torch import nn

from inkread.alphabet import Alphabet
from inkread.errors import InkreadError
from inkread.model import CRNN, PRESETS, checkpoint, load_config


def test_seed_is_the_notebook_network():
    model = CRNN(PRESETS["seed"], 80)
    convs = [m for m in model.cnn if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128, 128, 256]
    assert [c.kernel_size[0] for c in convs] == [5, 5, 3, 3, 3]
    assert all(c.padding == (c.kernel_size[0] // 2,) * 2 for c in convs)  # 'same'
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.cnn) == 5
    assert sum(isinstance(m, nn.LeakyReLU) for m in model.cnn) == 5
    pools = [m.kernel_size for m in model.cnn if isinstance(m, nn.MaxPool2d)]
    assert pools == [(2, 2), (2, 2), (2, 1), (2, 1), (2, 1)]  # height-only after two
    kinds = [type(m).__name__ for m in model.cnn][:4]
    assert kinds == ["Conv2d", "BatchNorm2d", "LeakyReLU", "MaxPool2d"]  # the notebook's order
    gru = model.rnn.forward_layers[0]
    assert isinstance(gru, nn.GRU) and gru.hidden_size == 256 and len(model.rnn.forward_layers) == 1
    assert model.head.out_features == 80
    # Keras' layers: the notebook's weights, one for one (conv biases; BatchNorm's settings)
    trainable = sum(p.numel() for p in model.parameters())
    keras_conv = sum(
        k * k * a * b + b
        for k, a, b in zip([5, 5, 3, 3, 3], [1, 32, 64, 128, 128], [32, 64, 128, 128, 256])
    )
    keras_gru = 2 * 3 * (256 * 256 + 256 * 256 + 2 * 256)
    assert trainable == keras_conv + 2 * 608 + keras_gru + (2 * 256 + 1) * 80
    norms = [m for m in model.cnn if isinstance(m, nn.BatchNorm2d)]
    assert all(m.eps == 1e-3 for m in norms)


def test_seed_gives_32_time_steps_for_a_128_wide_image():
    model = CRNN(PRESETS["seed"], 80).eval()
    out = model(torch.rand(3, 1, 32, 128))
    assert out.shape == (3, 32, 80)


def test_lstm_option():
    config, _, _ = load_config("seed")
    model = CRNN(config.with_changes(rnn="lstm"), 10)
    assert isinstance(model.rnn.forward_layers[0], nn.LSTM)
    assert model(torch.rand(1, 1, 32, 128)).shape == (1, 32, 10)


def test_widening_for_new_characters_keeps_what_was_learnt():
    torch.manual_seed(0)
    model = CRNN(PRESETS["line"], 10).eval()
    images = torch.rand(2, 1, PRESETS["line"].height, 120)
    widths = torch.tensor([120, 80])
    before = model(images, widths)
    model.widen(13)
    after = model(images, widths)
    assert after.shape[-1] == 13
    assert torch.allclose(before, after[..., :10])


def test_pooling_first_is_the_same_function_once_normalisation_is_fixed():
    """The line preset pools before BatchNorm and LeakyReLU, on a quarter of the values: with
    fixed statistics and positive scales both are increasing per channel, so max-pooling
    commutes with them and the network computes exactly what the notebook's order would."""
    torch.manual_seed(0)
    config = PRESETS["line"].with_changes(pool_first=False, dropout=0.0)
    plain, pooled_first = CRNN(config, 20), CRNN(config.with_changes(pool_first=True), 20)
    for m in plain.cnn:
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 2.0)
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2.0)
    pooled_first.rnn.load_state_dict(plain.rnn.state_dict())
    pooled_first.head.load_state_dict(plain.head.state_dict())
    for kind in (nn.Conv2d, nn.BatchNorm2d):
        mine = [m for m in pooled_first.cnn if isinstance(m, kind)]
        for a, b in zip([m for m in plain.cnn if isinstance(m, kind)], mine, strict=True):
            b.load_state_dict(a.state_dict())
    images, widths = torch.rand(2, 1, config.height, 160), torch.tensor([160, 100])
    expected = plain.eval()(images, widths)
    assert torch.allclose(pooled_first.eval()(images, widths), expected, atol=1e-5)
    kinds = [type(m).__name__ for m in pooled_first.cnn][:4]
    assert kinds == ["Conv2d", "MaxPool2d", "BatchNorm2d", "LeakyReLU"]


def test_line_preset_keeps_width():
    model = CRNN(PRESETS["line"], 50).eval()
    out = model(torch.rand(2, 1, PRESETS["line"].height, 400), torch.tensor([400, 240]))
    assert out.shape == (2, 400 // PRESETS["line"].width_reduction, 50)
    assert model.output_lengths(torch.tensor([400, 240])).tolist() == [100, 60]


def test_a_lines_result_does_not_depend_on_its_batch():
    torch.manual_seed(0)
    config = PRESETS["line"]
    model = CRNN(config, 20).eval()
    for norm in model.modules():  # as trained: normalisation shifts paper away from zero
        if isinstance(norm, torch.nn.BatchNorm2d):
            norm.running_mean.uniform_(-1, 1)
            norm.bias.data.uniform_(-1, 1)
    line = torch.rand(1, 1, config.height, 201)  # odd: the pools drop its last column
    alone = model(line, torch.tensor([201]))
    batch = torch.zeros(2, 1, config.height, 480)
    batch[0, :, :, :201] = line[0]
    batch[1] = torch.rand(1, config.height, 480)
    together = model(batch, torch.tensor([201, 480]))
    assert alone.shape[1] == 50 and torch.allclose(alone[0], together[0, :50], atol=1e-5)


def test_a_line_narrower_than_the_pools_step_is_read_not_a_traceback(tmp_path):
    """A model pooling 16 columns to a time step read a 5-pixel line padded to 8, which its
    pools floored to nothing: "Output size is too small". Explain draws it too."""
    from inkread.explain import explain
    from inkread.recognize import Recognizer

    config = PRESETS["line"].with_changes(pools=((2, 2), (2, 2), (2, 2), (2, 2), (1, 1)))
    recognizer = Recognizer(CRNN(config, 4).eval(), Alphabet("abc"), precision="fp32")
    narrow = np.full((48, 5), 255, np.uint8)
    narrow[10:40, 2] = 0
    [result] = recognizer.recognize([narrow])
    assert isinstance(result.text, str)
    assert isinstance(explain(narrow, recognizer, tmp_path / "e.png"), str)


def test_config_file_changes_a_preset(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"preset": "seed", "rnn": "lstm", "train": {"lr": 0.01}}')
    config, train, preset = load_config(None, path)
    assert config.width == 128 and config.rnn == "lstm" and train == {"lr": 0.01}
    assert preset == "seed"  # what the checkpoint's provenance says it was built on
    assert load_config("seed", path)[2] == "seed"
    # a --preset the file contradicts is refused, not overruled in silence
    with pytest.raises(InkreadError, match="its preset 'seed' is not --preset line"):
        load_config("line", path)
    assert load_config(None)[2] == "line"
    path.write_text('{"rnn_size": 3}')
    with pytest.raises(InkreadError, match="unknown model settings"):
        load_config("line", path)
    for encoding in ("utf-8-sig", "utf-16"):  # as Notepad saves it: read, as transcriptions are
        path.write_text('{"preset": "seed", "rnn": "lstm"}\r\n', encoding=encoding)
        assert load_config(None, path)[0].rnn == "lstm"
    path.write_text("preset: seed\n")  # YAML, TOML: said to be JSON
    with pytest.raises(InkreadError, match="a config is JSON, as"):
        load_config(None, path)
    # a stranger's: nested 100,000 deep, a number of 100,000 digits (tracebacks)
    for hostile in ("[" * 100_000, '{"height": ' + "9" * 100_000 + "}"):
        path.write_text(hostile)
        with pytest.raises(InkreadError, match="cannot read config"):
            load_config(None, path)
    with pytest.raises(InkreadError, match="unknown preset"):
        load_config("nope")


@pytest.mark.parametrize(
    "setting,said",
    [
        ('"rnn_hidden": 2.5', "rnn_hidden must be a whole number"),
        ('"negative_slope": "abc"', "negative_slope must be a number"),
        ('"trim": "no"', "trim must be true or false"),  # a string Python takes as true
        ('"height": 100000', "height must be at most 256"),  # else killed for memory
        ('"kernels": [1001, 3, 3, 3, 3]', "kernels must be at most 15"),  # else hours a line
        ('"pools": 2', "pools must be a list"),
        ('"kernels": [2, 2, 2, 2, 2]', "kernels must be odd"),  # else a shape error mid-run
        ('"width": 0', "must be 1 or more"),
        # each size under its cap, together 0.9 billion weights: else killed for memory
        ('"kernels": [15, 15, 15, 15, 15], "filters": [2048, 2048, 2048, 2048, 2048]', "weights"),
        ('"train": []', '"train" must be an object'),
        ('"max_width": null', "max_width must be a whole number"),  # not '<' of NoneType
        ('"pools": [[2], [2, 2], [2, 1], [2, 1], [2, 1]]', r"pools must be pairs \[height"),
        ('"rnn": "gru", "rnn": "lstm"', "'rnn' is given twice"),  # the last had been kept
        # a fixed width pooled to nothing, and lines squeezed to less than a step: a
        # traceback at the first step, and a run on 3 lines of 109
        ('"width": 128, "pools": [[2, 4], [2, 4], [2, 4], [2, 4], [3, 4]]', "no time step"),
        ('"max_width": 3', "more than the 3 of max_width"),
        ('"kernels": [], "filters": [], "pools": []', "need a conv block"),
    ],
)
def test_a_config_setting_of_the_wrong_kind_or_size_is_named(tmp_path, setting, said):
    path = tmp_path / "c.json"
    path.write_text("{" + setting + "}")
    with pytest.raises(InkreadError, match=said) as e:
        load_config("line", path)
    assert e.value.path == str(path)


def test_checkpoint_is_self_contained_and_atomic(tmp_path):
    config = PRESETS["line"].with_changes(rnn="lstm", rnn_layers=1)
    alphabet = Alphabet("abc ")
    model = CRNN(config, len(alphabet)).eval()
    path = tmp_path / "m.pt"
    checkpoint.save(path, model, alphabet, {"trained_on": ["x"]})
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary left behind
    loaded, loaded_alphabet, blob = checkpoint.load(path)
    assert loaded.config == config and loaded_alphabet.chars == alphabet.chars
    assert blob["meta"]["trained_on"] == ["x"]
    x = torch.rand(1, 1, config.height, 100)
    assert torch.allclose(model(x), loaded(x))
    torch.manual_seed(7)
    wanted = torch.rand(2)
    torch.manual_seed(7)  # a caller's: the weights drawn before the file's had used it
    checkpoint.load(path)
    assert torch.equal(torch.rand(2), wanted)


def test_a_device_or_image_as_a_python_caller_holds_it(tmp_path):
    """Recognizer.load(device=torch.device("cpu")) had ended in a TypeError from re, a PIL
    image closed before it was read in Pillow's bare AssertionError, and checkpoint.load
    on "cuda" without one in torch's."""
    from PIL import Image

    from inkread.recognize import Recognizer

    line = FIXTURES / "lines" / "hooker_00.png"
    for device in (torch.device("cpu"), None):
        assert Recognizer.load("default", device).device.type in ("cpu", "cuda")
    model = Recognizer.load("default", "cpu")
    with Image.open(line) as closed:
        pass
    with pytest.raises(InkreadError, match="closed before its pixels were read"):
        model.recognize([closed])
    with Image.open(line) as image:
        image.load()
    assert model.recognize([image])[0].text == "proposed for a Royal Medal"
    if not torch.cuda.is_available():
        with pytest.raises(InkreadError, match="no CUDA device is available"):
            checkpoint.load("default", "cuda")


def test_half_precision_checkpoint_loads_as_float(tmp_path):
    model = CRNN(PRESETS["seed"], 5).eval()
    checkpoint.save(tmp_path / "h.pt", model, Alphabet("abcd"), half=True)
    loaded, _, _ = checkpoint.load(tmp_path / "h.pt")
    assert next(loaded.parameters()).dtype == torch.float32
    x = torch.rand(1, 1, 32, 128)
    assert torch.allclose(model(x), loaded(x), atol=1e-2)


def test_not_a_checkpoint_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(InkreadError, match="bad.pt: not a readable inkread checkpoint"):
        checkpoint.load(bad)
    with pytest.raises(InkreadError, match="no such model file"):
        checkpoint.load(tmp_path / "missing.pt")
    # said as what the file is, not as torch's paragraph on its defaults, cut short
    (tmp_path / "words.arpa").write_text("\\data\\\nngram 1=2\n", encoding="utf-8")
    with pytest.raises(InkreadError, match=r"n-gram language model: give it with --lm\)$"):
        checkpoint.load(tmp_path / "words.arpa")
    with (tmp_path / "model.pkl").open("wb") as f:  # joblib's and scikit-learn's kind
        pickle.dump({"weights": [1.0]}, f, protocol=5)
    with pytest.raises(InkreadError, match=r"\(a Python pickle, not a file that torch saved\)$"):
        checkpoint.load(tmp_path / "model.pkl")
    with pytest.raises(InkreadError, match="is a folder, not a model file"):
        checkpoint.load(tmp_path)
    torch.save({"made_by": torch.__version__}, tmp_path / "odd.pt")  # not a plain str
    with pytest.raises(InkreadError, match=r"holds a torch.torch_version.TorchVersion, which"):
        checkpoint.load(tmp_path / "odd.pt")

    class Hostile:  # a stranger's file that would run a command: not loaded, and said so
        def __reduce__(self):
            return (os.system, ("true",))

    torch.save({"format": "inkread-checkpoint/1", "x": Hostile()}, tmp_path / "evil.pt")
    with pytest.raises(InkreadError, match=r"holds a posix.system, .*: it could run code\)$"):
        checkpoint.load(tmp_path / "evil.pt")
    # a copy that did not finish: said so, not torch's sentence cut off at "If yo"
    checkpoint.save(tmp_path / "whole.pt", CRNN(PRESETS["seed"], 5), Alphabet("abcd"))
    whole = (tmp_path / "whole.pt").read_bytes()
    for end in (10, 2_000, len(whole) // 2):  # wherever it ends (torch: "Invalid argument",
        (tmp_path / "cut.pt").write_bytes(whole[:end])  # "not a ZIP archive")
        with pytest.raises(InkreadError, match=r"cut.pt: .*\(the file is cut short or damaged"):
            checkpoint.load(tmp_path / "cut.pt")
    with zipfile.ZipFile(tmp_path / "zip.pt", "w") as archive:  # torch: "enforce fail at"
        archive.writestr("weights.txt", "1 2 3")
    with pytest.raises(InkreadError, match=r"\(a zip archive, not a file that torch saved\)$"):
        checkpoint.load(tmp_path / "zip.pt")
    # bits flipped in its weights (a failing disk, a bad copy): it had read garbage, unsaid
    flipped = bytearray(whole)
    start = whole.index(b"archive/data/0") + 200  # into the first tensor's bytes
    flipped[start : start + 64] = bytes(b ^ 0x10 for b in flipped[start : start + 64])
    (tmp_path / "flipped.pt").write_bytes(bytes(flipped))
    with pytest.raises(InkreadError, match=r"flipped.pt: .*damaged: archive/data/\d+ fails its"):
        checkpoint.load(tmp_path / "flipped.pt")
    torch.serialization.set_crc32_options(False)  # saved without checksums: whole all the same
    try:
        checkpoint.save(tmp_path / "unsummed.pt", CRNN(PRESETS["seed"], 5), Alphabet("abcd"))
    finally:
        torch.serialization.set_crc32_options(True)
    checkpoint.load(tmp_path / "unsummed.pt")
    model = CRNN(PRESETS["seed"], 3)
    for chars in ([1, 2], ["ab", "c"], ["a", "a"]):  # a stranger's file: its numbers decode nothing
        checkpoint.save(tmp_path / "odd.pt", model, Alphabet("ab"))
        blob = torch.load(tmp_path / "odd.pt", weights_only=True)
        torch.save({**blob, "alphabet": chars}, tmp_path / "odd.pt")
        with pytest.raises(InkreadError, match="odd.pt: .*alphabet is not distinct characters"):
            checkpoint.load(tmp_path / "odd.pt")


def test_precision_auto_picks_bf16_on_gpus_that_have_it_natively(monkeypatch):
    """torch.cuda.is_bf16_supported() counts emulation: auto had picked bf16 on a T4 or V100
    (compute capability 7), where cuDNN has no bf16 kernels; and it asked cuda:0 of a
    machine whose --device cuda:1 is another card."""
    from inkread.recognize import native_bf16

    cards = {0: (7, 5), 1: (8, 0)}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None: cards[d.index or 0])
    assert not native_bf16(torch.device("cuda:0")) and not native_bf16(torch.device("cuda"))
    assert native_bf16(torch.device("cuda:1"))


def test_bf16_reading_matches_fp32(fixtures):
    """Reading runs in bf16 on CPUs that have it natively: it must read as well as fp32."""
    from inkread.data import line_images, read_data
    from inkread.data.batches import sized
    from inkread.data.lines import Skipped
    from inkread.metrics import error_rates
    from inkread.recognize import Recognizer

    lines, _ = read_data([fixtures / "hooker" / "JDH_2_16_45_003.xml"])
    texts, images = [], []
    for line, crop in line_images([x for x in lines if x.text], Skipped()):
        texts.append(line.text)
        images.append(crop)
    loaded = Recognizer.load("default", "cpu")
    sized_images = [sized(im, loaded.config) for im in images]
    cer = {}
    for precision in ("fp32", "bf16"):
        reader = Recognizer(loaded.model, loaded.alphabet, device="cpu", precision=precision)
        found = [r.text for r in reader.recognize_sized(sized_images)]
        cer[precision] = error_rates(found, texts)["cer"]
    assert cer["fp32"] < 0.25
    assert abs(cer["bf16"] - cer["fp32"]) < 0.01


def test_a_line_far_wider_than_those_trained_on_is_read_at_its_own_width(fixtures):
    """A register's line 66 times as wide as it is high: squeezed to the training lines'
    largest width, its letters were like none the network had seen and it read as gibberish."""
    from PIL import Image

    from inkread.recognize import Recognizer

    line = np.asarray(Image.open(fixtures / "lines" / "hooker_00.png").convert("L"))
    wide = np.tile(line, (1, 8))  # "proposed for a Royal Medal" eight times, 4352 x 66
    reader = Recognizer.load("default", "cpu")
    [read] = reader.recognize([wide])
    assert read.text.count("Royal Medal") >= 6, read.text
    assert [r.text for r in reader.recognize([line, wide, line], batch_size=3)][::2] == [
        "proposed for a Royal Medal"
    ] * 2  # a batch shared with it, cut to hold what sixteen ordinary lines do


def test_light_writing_on_dark_reads_as_dark_on_light(fixtures):
    """A microfilm negative's line, or chalk on slate: the network learnt dark ink on light
    paper, and read a negative as nothing at all."""
    from PIL import Image

    from inkread.data.images import ink
    from inkread.recognize import Recognizer

    line = np.asarray(Image.open(fixtures / "lines" / "hooker_00.png").convert("L"))
    assert np.array_equal(ink(255 - line), ink(line))
    read = Recognizer.load("default", "cpu").recognize([255 - line])
    assert read[0].text == "proposed for a Royal Medal"


def test_a_model_saved_by_a_newer_inkread_says_so(tmp_path):
    """A network with settings this version does not know was refused as having 'unknown
    model settings', with no word of versions; an ONNX file as 'InkreadError'."""
    model = CRNN(PRESETS["line"], 5)
    path = tmp_path / "new.pt"
    checkpoint.save(path, model, Alphabet(list("abcd")), {"inkread": "9.0.0"})
    blob = torch.load(path, weights_only=True)
    blob["config"]["wings"] = True
    torch.save(blob, path)
    with pytest.raises(InkreadError, match=r"new.pt: saved by inkread 9.0.0.*\(wings\): upgrade"):
        checkpoint.load(path)
    blob["meta"]["inkread"] = "0.1.0"  # a setting an earlier version had and this one not
    torch.save(blob, path)
    with pytest.raises(InkreadError, match=r"does not have \(wings\): read it with that version"):
        checkpoint.load(path)


def test_lines_given_to_a_word_model_to_score_are_said_to_be_lines():
    """The seed reads 32 x 128 word images: whole lines squeezed into them had scored 97 %
    CER without a word of why (train says it of the same lines)."""
    from inkread.evaluate import _too_long_for

    lines = ["proposed for a Royal Medal", "I quite forget that", "Utah"]
    said = _too_long_for(PRESETS["seed"], lines)
    assert said and "2 of the 3 references are longer than 16 characters" in said
    assert _too_long_for(PRESETS["seed"], ["proposed", "Royal", "Medal"]) is None  # words
    assert _too_long_for(PRESETS["line"], lines) is None  # lines of any width
