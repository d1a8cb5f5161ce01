"""Named presets: a description, the config overrides, and (for teaching) what the run shows and why."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.config import ConfigError, RunConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    overrides: dict = field(default_factory=dict)
    explanation: str = ""
    variants: tuple[dict, ...] = ()  # a comparison preset: one run per variant, each on top of ``overrides``

    def config(self, updates: dict | None = None) -> RunConfig:
        """The preset's config, with optional dotted-key updates on top."""
        return RunConfig().override({**self.overrides, **(updates or {})})

    def configs(self, updates: dict | None = None) -> list[RunConfig]:
        """One config per variant (just ``config()`` for a single-run preset); ``updates`` apply to each."""
        return [self.config({**variant, **(updates or {})}) for variant in self.variants or ({},)]


# Long enough, without gradient clipping, for generation 0 to memorise part of the flipped labels
# (bench/TUNING.md).
_NOISY = {"data.label_noise": 0.4, "method.generations": 4, "train.epochs": 60, "train.grad_clip": 0.0,
          "method.temperature": 4.0, "method.alpha": 1.0}
# What the noisy-label presets teach; every figure is from seeds that tuned nothing
# (tests/test_teaching_claims.py checks it).
_NOISY_TEXT = ("40% of the training labels were flipped to a wrong class. Generation 0 learns from them and copies part "
               "of the noise: on seeds that tuned nothing (100-103) it predicts the flipped label for 34-45% of the "
               "flipped training examples (the 'memorized noise' column). Each later generation learns from the "
               "previous one's outputs softened at temperature T instead of from the labels, and copies less: 13-18% "
               "by generation 3, lower at every generation on every one of those seeds. Test accuracy moves far less: "
               "the generation chosen on the validation split scored between -0.8 and +1.1 points against "
               "generation 0 there, so read the lesson in the memorized-noise column, not in one accuracy figure. "
               "Over a group of 3 seeds (200-202) the mean tells it plainly: generation 0 reproduces 37% of the "
               "flipped labels on average and generation 3 15%, falling on every seed (single seeds 36-38% and "
               "13-17%); the chosen generation gains +2.4 points on average, but single seeds range from +0.6 to "
               "+3.3, so one run can land on a seed where the gain hardly shows.")

# Label-free DINO on the 8×8 digits. Batch norm in the MLP keeps the teacher from a uniform collapse; a second
# (label-free born-again) generation lost accuracy, so there is one (bench/TUNING.md).
_DINO = {"method.name": "dino", "method.generations": 1, "model.batch_norm": True, "train.epochs": 60,
         "train.lr": 3e-4, "train.batch_size": 64, "method.out_dim": 64, "method.local_views": 2}

# Label-free DINO on digits at random offsets of a 16×16 canvas, with a CNN whose global pooling forgets where
# the digit sits; the views shift by up to 4 pixels and zoom in or out by 10%. Batch 64 rather than 128 (twice the
# steps, and EMA teacher updates, for the same compute) gained more than any other setting tried. Tuned on the
# validation splits of seeds 0 and 1 (bench/tune_label_free.py; what was tried is in bench/TUNING.md).
_SHIFTED_DINO = {"data.name": "digits-shifted", "model.name": "cnn-gap", "method.name": "dino",
                 "method.generations": 1, "method.out_dim": 64, "method.teacher_temp": 0.02,
                 "method.warmup_teacher_temp": 0.02, "method.student_temp": 0.1, "method.center_momentum": 0.9,
                 "method.ema_momentum": 0.99, "method.local_views": 0, "method.view_shift": 4.0,
                 "method.view_crop_min": 0.9, "method.view_crop_max": 1.1, "train.lr": 2e-3,
                 "train.schedule": "cosine", "train.warmup_epochs": 2, "train.batch_size": 64, "train.epochs": 20}
# The same with a 4×4 fragment of another digit pasted on every image, and on every view during training.
_CLUTTER_DINO = {**_SHIFTED_DINO, "data.distractor": "fragment", "method.view_fragment": True, "train.epochs": 80}

# Born-again with the tiny ViT (core/models/vit.py) on the noisy digits: a ViT needs a higher, decaying learning rate
# to fit the digits in few epochs; 3 generations of 25 epochs keep the run short. Tuned on seed 0 only.
_VIT_NOISY = {**_NOISY, "model.name": "vit", "method.generations": 3, "train.epochs": 25, "train.lr": 3e-3,
              "train.schedule": "cosine", "train.warmup_epochs": 2, "eval.embedding": "pca", "eval.linear_probe": False}

# Label-free DINO with the tiny ViT on the 8×8 digits: no batch norm to lean on, so a slower center (0.99), weight
# decay and a short warm-up kept the teacher from a uniform collapse on seed 0 (bench/TUNING.md).
_VIT_DINO = {"model.name": "vit", "method.name": "dino", "method.generations": 1, "method.out_dim": 64,
             "method.local_views": 2, "method.center_momentum": 0.99, "train.weight_decay": 0.04, "train.epochs": 20,
             "train.lr": 5e-4, "train.schedule": "cosine", "train.warmup_epochs": 3, "eval.embedding": "pca"}

# Born-again on spoken digits (core/data/spoken.py) with 30% label noise: a global-pooling CNN (a word may start
# anywhere in its clip), warm-started generations mixing labels and teacher (alpha 0.5), short cosine generations.
# Tuned on seeds 0-1 (bench/TUNING.md, "Spoken digits").
_SPEECH_BAN = {"data.name": "spoken-digits", "model.name": "cnn-gap", "data.label_noise": 0.3,
               "method.generations": 3, "method.temperature": 4.0, "method.alpha": 0.5, "method.warm_start": True,
               "train.epochs": 6, "train.lr": 3e-3, "train.schedule": "cosine", "train.grad_clip": 0.0,
               "eval.embedding": "pca", "eval.linear_probe": False}
# Label-free DINO on spoken digits with SpecAugment-style views (core/data/spoken_views.py): time shifts of up to
# 4 frames, time and frequency masks; shifted-dino's settings otherwise. On the validation splits of seeds 0-1 no
# other value of the config keys did better (epochs, out_dim, temperatures, local views, shift, batch, EMA; TUNING.md).
# Fourth pass (seeds 0-3, validation): each mel band's mean over the clip subtracted at the input, and the epoch with
# the best validation k-NN kept (k-NN WER 0.299 against 0.408 for the preset before, 0.431 for raw log-mel).
_SPEECH_DINO = {"data.name": "spoken-digits", "model.name": "cnn-gap", "model.row_mean_norm": True,
                "method.name": "dino", "method.generations": 1, "method.out_dim": 64, "method.teacher_temp": 0.02,
                "method.warmup_teacher_temp": 0.02, "method.local_views": 0, "method.view_shift": 4.0,
                "method.keep_best_val_knn": True, "train.lr": 2e-3, "train.schedule": "cosine",
                "train.warmup_epochs": 2, "train.batch_size": 64, "train.epochs": 10, "eval.embedding": "pca"}
SPEECH_BAN_TEXT = ("The words zero to nine spoken by espeak-ng voices, made untidy (speed, pitch, stretch, gain, "
                   "start, noise), shown to the network as 32×32 log-mel images; the test voices are never heard in "
                   "training, and 30% of the training labels were flipped. Each generation starts from the previous "
                   "one's weights and learns from its softened outputs and the labels, so part of what it gains is "
                   "more training. On seeds that tuned nothing (100-102) generation 0 misrecognises 26-28% of the "
                   "test words; the WER falls at every generation on every one of those seeds, to 14-19% by "
                   "generation 2, and the validation split (voices of its own) chooses a later generation each time "
                   "(generation 2, or generation 1 where the two tie on validation).")
SPEECH_DINO_TEXT = ("No label is used in training: the network sees two views of a spoken word, shifted in time and "
                    "with a run of frames and a run of mel bands blanked out (SpecAugment), and learns to answer the "
                    "same to both. At its input each mel band's mean over the clip is subtracted (cepstral mean "
                    "normalisation, which removes a voice's fixed spectral tilt), and it keeps the weights of the "
                    "epoch whose features did best on the validation voices. Its features are scored on voices "
                    "never heard in training. On seeds that tuned nothing (100-102) k-NN on its features "
                    "misrecognises 31-35% of the words, fewer than k-NN on the raw log-mel images (40-45%) on every "
                    "seed (6 to 13 points fewer, 9 on average), and a linear probe on them 14-21%. The gain comes "
                    "from the normalisation, not from the training: the same network untrained, reading the same "
                    "normalised input, does as well or a little better on k-NN (29-34%), and the validation voices "
                    "chose one of its first four epochs out of ten. MFCC features, the speech engineer's hand-made "
                    "summary, beat them all (k-NN WER 22-24%).")

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("dry-run", "2 tiny generations on digits in a few seconds (tests and CI)",
           {"method.generations": 2, "train.epochs": 4, "train.lr": 1e-2, "model.hidden": 32, "eval.embedding": "pca",
            "eval.linear_probe": False}),
    Preset("digits-ban", "born-again networks on clean digits, 5 generations",
           {"method.generations": 5, "train.epochs": 60}),
    Preset("digits-ban-noisy", "born-again networks on digits with 40% symmetric label noise",
           _NOISY,
           _NOISY_TEXT),
    Preset("teach-noisy-labels", "teaching: born-again on noisy labels, the memorised noise falling generation "
                                 "after generation",
           _NOISY,
           _NOISY_TEXT),
    Preset("teach-clean-digits", "teaching: born-again on clean digits, where there is little to gain",
           {"method.generations": 4, "train.epochs": 40},
           "With clean labels generation 0 already reaches 97-98% test accuracy (seeds 100-102), and what it "
           "passes on is mostly what the labels said. Its soft outputs add 'dark knowledge' (a 3 that looks a bit "
           "like an 8), but there is no noise to undo, so later generations land within about a point of "
           "generation 0 (1.2 points at most on those seeds), up or down. Compare with teach-noisy-labels, where "
           "the labels mislead and later generations copy less of the noise. Over a group of 3 seeds (200-202): "
           "generation 0 scores 97.7% on average (single seeds 96.9-98.9%) and generation 3 97.4%, a mean change "
           "of -0.3 points (single seeds -0.6 to 0.0): the mean does not rise, and the validation split keeps "
           "generation 0 on each of those seeds."),
    Preset("teach-temperature", "teaching: the same noisy run at T = 1, 2, 4, 8, compared",
           {**_NOISY, "method.generations": 3, "eval.embedding": "pca"},
           "The temperature T softens the teacher's outputs before the student matches them. At T = 1 the "
           "student copies the teacher's confident answers, the memorised wrong labels included; a higher T "
           "exposes how the teacher ranks the other classes, where its knowledge of the clean classes hides. "
           "Compare the four runs on 'memorized noise': the share of flipped labels the last generation "
           "reproduces falls as T rises, 0.22 at T = 1, 0.18 at T = 2, 0.16 at T = 4 and 0.15 at T = 8 on average "
           "over seeds 100-102 (0.20-0.23 at T = 1, 0.14-0.17 at T = 8). Test accuracy does not follow: the "
           "generation chosen on validation moved between -1.4 and +2.2 points against generation 0, at every T.",
           variants=tuple({"method.temperature": t} for t in (1.0, 2.0, 4.0, 8.0))),
    Preset("digits-ban-vit", "born-again tiny Vision Transformers on digits with 40% label noise; attention maps "
                             "per generation", _VIT_NOISY,
           "The noisy-label lesson with a tiny Vision Transformer: each 8×8 digit is cut into 16 patches of 2×2 "
           "pixels, and a class token gathers what the answer is read from. Generation 0 learns from labels of which "
           "40% were flipped and reproduces 14-21% of the flipped training labels on seeds that tuned nothing "
           "(100-102); each later generation, taught by the previous one at T = 4, copies less at every generation "
           "on every one of those seeds (5-7% by generation 2), and the generation chosen on validation scored "
           "above generation 0 on test there (+2 to +10 points). Click a test point to see where each generation's "
           "class token looks."),
    Preset("vit-dino", "label-free DINO with a tiny Vision Transformer on digits; its attention maps per generation "
                       "(a short run: its k-NN stays far below raw pixels)", _VIT_DINO),
    Preset("digits-dino", "label-free DINO-style self-distillation on digits (EMA teacher, no labels in training)",
           _DINO),
    Preset("teach-dino-features", "teaching: label-free features on the centred 8×8 digits, level with raw pixels",
           _DINO,
           "No label is used in training. The student sees random crops, shifts and stroke-width changes of a digit "
           "and learns to give the same output as a slowly moving average of itself (the teacher) gives for other "
           "views of that digit. Two things keep this from the trivial answer of one output for every input: the "
           "teacher's outputs are centered (its running mean is subtracted) and sharpened (a low temperature), and "
           "the collapse monitor stays quiet. But these digits come centred and cropped, so raw pixels are already "
           "near the ceiling: the learned features land level with raw pixels (within two points of their k-NN on "
           "seeds 100-101), as do PCA and an autoencoder (the 'Features against baselines' chart). There is little "
           "here for features to discover; teach-shifted-invariance moves the digits around and shows what they "
           "can learn. Over a group of 3 seeds (200-202) the learned features' k-NN is 98.2% on average (single "
           "seeds 97.8-98.6%) against 98.1% for raw pixels: level on average, and on every seed (-0.3 to +0.5 "
           "points)."),
    Preset("teach-dino-collapse", "teaching: the label-free run without centering, where the teacher collapses",
           {**_DINO, "method.centering": False, "train.epochs": 40, "eval.embedding": "pca"},
           "The same label-free run with centering switched off. Sharpening alone rewards the student for being "
           "confident, and the cheapest confident answer is the same output for every image: the teacher entropy "
           "drops towards 0 (one-hot collapse), one output dimension (on some seeds two) wins for every input, and "
           "the collapse monitor raises a warning naming the epoch it began. From then on the loss is near 0 and "
           "gives the "
           "backbone almost nothing to learn (the backbone's features stay about where they started). "
           "With centering on (teach-dino-features) the subtracted running mean stops any one output from winning, "
           "and no warning appears. Over a group of 3 seeds (200-202) the collapse warning appears on every seed "
           "(from epoch 4 on two, epoch 27 on the third), and the features' k-NN ends 0.2 points above the "
           "untrained network's on average (single seeds -0.9 to +0.8): the training moved them nowhere."),
    Preset("shifted-dino", "label-free DINO on digits at random positions of a 16×16 canvas, a global-pooling CNN",
           _SHIFTED_DINO),
    Preset("teach-shifted-invariance", "teaching: label-free features that recognise a digit wherever it sits, "
                                       "against raw pixels, PCA, a random network and a hand-made invariant",
           {**_SHIFTED_DINO, "method.generations": 2, "eval.compute_control": True},
           "Each 8×8 digit sits at a random place on a 16×16 canvas. Raw pixels compare digits pixel by pixel, so "
           "the same digit a few pixels over looks like another one: k-NN on raw pixels reaches 64-69% (seeds "
           "100-101), PCA less. No label is used in training: the network sees two views of an image, shifted by up "
           "to 4 pixels, zoomed and with thicker or thinner strokes, and learns to answer the same to both, so its "
           "features come to ignore where the digit sits: 92% k-NN after generation 0, and a linear probe on 10 "
           "labelled examples per class reaches 87% where raw pixels reach 14-17%. The same network untrained "
           "already gets 80-83% (global pooling tolerates shifts by design): training adds about 10 points. Two "
           "honest footnotes. A hand-made feature, the magnitude of the image's Fourier transform (|FFT|), ignores "
           "shifts by construction and scores 96-98% here, above the learned features: where a formula removes the "
           "nuisance, use it (clutter-dino shows where none does). And the second generation (92-94%) does no "
           "better on average than one generation trained for the same total epochs (the compute-matched bar, "
           "94-95%; on a single seed it can land a point above it): what it adds is more training, not the "
           "generation step, and which of the two the validation split keeps changes from seed to seed. Over a "
           "group of 3 seeds (200-202) the features' k-NN averages 94.1% after generation 0 (single seeds "
           "93.6-94.4%) and 94.0% after generation 1 (93.1-94.7%), against 67.2% for raw pixels (63.3-69.2%), 83.7% "
           "for the untrained network (82.8-84.4%), 95.8% for the compute-matched bar (95.6-96.4%) and 96.7% for "
           "|FFT| (96.4-97.2%)."),
    Preset("speech-ban-noisy", "born-again on spoken digits (espeak-ng voices) with 30% label noise; word error "
                               "rate on voices never heard in training", _SPEECH_BAN, SPEECH_BAN_TEXT),
    Preset("speech-dino", "label-free DINO on spoken digits with SpecAugment-style views and mel-band mean "
                          "normalisation; k-NN and probe word error rates against raw log-mel, MFCC and the untrained "
                          "network (its k-NN beats raw log-mel, not the untrained network)", _SPEECH_DINO,
           SPEECH_DINO_TEXT),
    Preset("clutter-dino", "label-free DINO on shifted digits with a fragment of another digit pasted on each "
                           "(about 3 minutes)",
           _CLUTTER_DINO,
           "Each digit sits at a random place on a 16×16 canvas, and a 4×4 fragment of another digit is pasted "
           "somewhere on it. Now no simple formula removes the nuisance: the shift-invariant |FFT| feature, which "
           "beats the learned features on teach-shifted-invariance, falls to 72-77% k-NN (seeds 100-101), since the "
           "fragment is part of the image it describes. Trained without labels on views that carry pasted "
           "fragments too, the network learns to look past them: 84-85% k-NN, 10-12 points above |FFT| and about "
           "40 above raw pixels (44-47%). The same network untrained reaches 55-58%, and an autoencoder, which has "
           "to encode where everything sits to rebuild the image, 20-22%."),
]}


def get_preset(name: str) -> Preset:
    """The named preset; ConfigError listing the known names otherwise."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
