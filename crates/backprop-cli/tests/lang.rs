//! `--lang ru|en` and the environment's language: the output meant for people in Russian or
//! English, the same numbers in both; JSON stays English.

mod common;

use common::backprop;
use std::path::Path;

fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (String, String) {
    let mut cmd = backprop();
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn every_command_of_the_tour_speaks_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ru, _) = run(
        d,
        &[],
        &[
            "--lang",
            "ru",
            "train",
            "--epochs",
            "2",
            "--save",
            "m.safetensors",
        ],
    );
    let lines: Vec<&str> = ru.lines().collect();
    assert!(
        lines[0].starts_with("Обучение сети 784-30-10 (sigmoid/sigmoid, функция ошибки quadratic"),
        "{ru}"
    );
    assert!(
        lines[1].starts_with("эпох: 2, подвыборка из 10, η = 3, plain SGD, seed 0,"),
        "{ru}"
    );
    assert!(
        lines[2].starts_with(
            "Эпоха 1: 1452 / 2000 (72.60%)  ошибка на обучающей 0.2934  ошибка на тестовой 0.1913"
        ),
        "{ru}"
    );
    assert!(
        lines[4].starts_with("Итог: 1680 / 2000 (84.00%) после 2-й эпохи; лучший результат"),
        "{ru}"
    );
    assert_eq!(lines[5], "Сохранено: m.safetensors");
    let (en, _) = run(
        d,
        &[("LANG", "ru_RU.UTF-8")],
        &["--lang", "en", "evaluate", "--model", "m.safetensors"],
    );
    assert!(en.starts_with("Model: m.safetensors\nData: mnist-10k (embedded): 8,000 train, 2,000 test; evaluated on the test split\nAccuracy: 1680 / 2000 (84.00%)\n"), "{en}");
    let (ru, _) = run(
        d,
        &[("LANG", "ru_RU.UTF-8")],
        &["evaluate", "--model", "m.safetensors"],
    );
    assert!(ru.starts_with("Модель: m.safetensors\nДанные: mnist-10k (встроенные): 8,000 для обучения, 2,000 для теста; оценка на тестовой выборке\nТочность: 1680 / 2000 (84.00%)\nСредняя ошибка: "), "{ru}");
    assert!(ru.contains("Матрица ошибок (строки: истинная метка, столбцы: предсказание):"));
    let (ru, _) = run(
        d,
        &[("LC_ALL", "ru_RU.UTF-8"), ("LANG", "en_US.UTF-8")],
        &["predict", "--model", "m.safetensors", "--index", "0"],
    );
    assert!(
        ru.starts_with("Предсказанный класс: 3 (метка 3)\nВыходные сигналы a^(L):\n"),
        "{ru}"
    );
    let (ru, _) = run(
        d,
        &[],
        &["info", "--model", "m.safetensors", "--lang", "ru"],
    );
    assert!(ru.starts_with("Модель: m.safetensors\nСлои: 784-30-10 (параметров: 23860)\nФункция активации скрытых слоёв: sigmoid\n"), "{ru}");
    let (json, _) = run(
        d,
        &[("LANG", "ru_RU.UTF-8")],
        &["evaluate", "--model", "m.safetensors", "--json"],
    );
    assert!(
        json.contains("\"accuracy\""),
        "JSON keys stay English: {json}"
    );
    let (_, err) = run(d, &[("LANG", "ru_RU.UTF-8")], &["train", "--eta=-1"]);
    assert!(err.starts_with("ошибка: "), "{err}");
    let (_, err) = run(d, &[("LANG", "C")], &["train", "--eta=-1"]);
    assert!(err.starts_with("error: "), "{err}");
}

/// The numbers of a text, in order: the same in every language.
fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

#[test]
fn trace_and_gradcheck_speak_the_lectures_russian_with_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for format in ["text", "markdown"] {
        let args = [
            "trace", "--layers", "4,3,2", "--seed", "3", "--format", format,
        ];
        let (en, _) = run(d, &[], &args);
        let (ru, _) = run(d, &[], &[&args[..], &["--lang", "ru"]].concat());
        assert!(en.contains("Step 3. Output error (BP1)"), "{en}");
        assert!(
            ru.contains("Шаг 3. Мера влияния нейронов выходного слоя на ошибку (BP1)"),
            "{ru}"
        );
        assert!(
            ru.contains("Шаг 4. Обратный проход, мера влияния нейронов скрытых слоёв (BP2)"),
            "{ru}"
        );
        assert!(ru.contains("унитарный код метки"), "{ru}");
        assert_eq!(numbers(&en), numbers(&ru), "{format}");
    }
    let (en, _) = run(d, &[], &["gradcheck", "--layers", "4,3,2"]);
    let (ru, _) = run(
        d,
        &[("LANG", "ru_RU.UTF-8")],
        &["gradcheck", "--layers", "4,3,2"],
    );
    assert!(
        en.contains("OK: every relative error is below the tolerance"),
        "{en}"
    );
    assert!(
        ru.contains("ВЕРНО: каждая относительная ошибка ниже допуска"),
        "{ru}"
    );
    assert!(ru.starts_with("Проверка градиента сети 4-3-2"), "{ru}");
    assert_eq!(numbers(&en), numbers(&ru));
}

/// JSON and files stay English (the hostile round found trace's and gradcheck's JSON translated),
/// and `--lang` goes with `--resume`.
#[test]
fn json_stays_english_and_lang_goes_with_resume() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["trace", "--layers", "4,3,2", "--json"][..],
        &["gradcheck", "--layers", "4,3,2", "--json"][..],
    ] {
        let (en, _) = run(d, &[], args);
        let (ru, _) = run(d, &[], &[args, &["--lang", "ru"]].concat());
        assert_eq!(en, ru, "{args:?}");
        assert!(en.contains("random example 0 drawn from seed 0"), "{en}");
    }
    let (_, err) = run(
        d,
        &[],
        &[
            "train",
            "--epochs",
            "1",
            "--quiet",
            "--checkpoint",
            "c.safetensors",
        ],
    );
    assert!(err.is_empty(), "{err}");
    let (out, err) = run(
        d,
        &[],
        &[
            "--lang",
            "ru",
            "train",
            "--resume",
            "c.safetensors",
            "--epochs",
            "2",
        ],
    );
    assert!(out.contains("Продолжение после эпохи 1"), "{out}{err}");
}
