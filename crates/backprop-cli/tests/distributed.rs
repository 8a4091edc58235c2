//! `backprop train --distributed` (issue 15). Without the `mpi` feature: a one-line error naming
//! it. With it (`cargo test -p backprop-cli --features mpi --test distributed`, which `.ci/run`
//! runs after installing Open MPI): real `mpirun` jobs of 2 and 3 ranks on the embedded digits.

mod common;

#[cfg(not(feature = "mpi"))]
#[test]
fn without_the_feature_distributed_names_it() {
    common::fails(
        &["train", "--distributed", "--epochs", "1"],
        2,
        "cargo feature `mpi`",
    );
}

#[cfg(feature = "mpi")]
mod over_mpi {
    use backprop::Network;
    use std::path::Path;
    use std::process::{Command, Output};

    /// How far the weights of a P-rank job may be from a single process's after one epoch of
    /// the lecture's recipe in f32, relative to the largest weight (measured: see BENCHMARKS.md).
    const BOUND: f64 = 2e-4;

    /// `mpirun ARGS` (Open MPI), ended after 5 minutes at most.
    fn launch<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
        Command::new("timeout")
            .args(["300", "mpirun", "--allow-run-as-root", "--oversubscribe"])
            .args(args)
            .output()
            .expect("mpirun (Open MPI) is installed")
    }

    /// `mpirun -np P backprop train --distributed ARGS`.
    fn mpirun(ranks: usize, args: &[&str]) -> Output {
        let p = ranks.to_string();
        let bin = env!("CARGO_BIN_EXE_backprop");
        launch(&[&["-np", &p, bin, "train", "--distributed"], args].concat())
    }

    fn alone(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_backprop"))
            .arg("train")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(out: Output) -> String {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn model(path: &Path) -> Network {
        backprop::io::model_file::load(path).unwrap().network
    }

    /// `max |a − b| / max |a|` over every weight and bias.
    fn relative_difference(a: &Network, b: &Network) -> f64 {
        let (mut diff, mut size) = (0f64, 0f64);
        for l in 2..=a.num_layers() {
            let pairs = a.weights(l).iter().zip(b.weights(l).iter());
            for (x, y) in pairs.chain(a.biases(l).iter().zip(b.biases(l).iter())) {
                diff = diff.max((f64::from(*x) - f64::from(*y)).abs());
                size = size.max(f64::from(*x).abs());
            }
        }
        diff / size
    }

    /// The correct count on the test split from the `Final:` line.
    fn correct(stdout: &str) -> i64 {
        let line = stdout.lines().find(|l| l.starts_with("Final:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    fn s(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    /// One epoch of the lecture's recipe on 2 and 3 ranks (3: uneven parts of 4, 3, 3): one
    /// report printed, the weights within [`BOUND`] of a single process's, the accuracy within
    /// noise, and a second 3-rank run identical bit for bit. (Every rank compares a checksum of
    /// its weights after every epoch; a difference would have failed the run.)
    #[test]
    fn ranks_train_the_network_of_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let recipe = ["--epochs", "1", "--threads", "1"];
        let single = ok(alone(
            &[&recipe[..], &["--save", s(&path("1.st"))]].concat(),
        ));
        for ranks in [2, 3] {
            let out = path(&format!("{ranks}.st"));
            let said = ok(mpirun(ranks, &[&recipe[..], &["--save", s(&out)]].concat()));
            assert_eq!(said.matches("Epoch 1:").count(), 1, "{said}");
            assert!(said.contains(&format!("× {ranks} MPI ranks")), "{said}");
            let d = relative_difference(&model(&path("1.st")), &model(&out));
            assert!(d <= BOUND, "{ranks} ranks: {d:e}");
            assert!(
                (correct(&said) - correct(&single)).abs() <= 20,
                "{said}\n{single}"
            );
        }
        let again = path("3-again.st");
        ok(mpirun(3, &[&recipe[..], &["--save", s(&again)]].concat()));
        assert_eq!(model(&path("3.st")), model(&again), "not repeatable");
    }

    /// A checkpoint written by a 2-rank job resumes in one process, and one written by one
    /// process resumes in a 3-rank job.
    #[test]
    fn checkpoints_resume_with_or_without_mpi() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.st"), dir.path().join("b.st"));
        let small = ["--layers", "784,16,10", "--threads", "1", "--quiet"];
        ok(mpirun(
            2,
            &[&small[..], &["--epochs", "1", "--checkpoint", s(&a)]].concat(),
        ));
        let resumed = ok(alone(&["--resume", s(&a), "--epochs", "2", "--quiet"]));
        assert!(resumed.contains("after 2 epochs"), "{resumed}");
        ok(alone(
            &[&small[..], &["--epochs", "1", "--checkpoint", s(&b)]].concat(),
        ));
        let resumed = ok(mpirun(3, &["--resume", s(&b), "--epochs", "2", "--quiet"]));
        assert!(resumed.contains("after 2 epochs"), "{resumed}");
    }

    /// A rank that fails ends the whole job with its message, never a hang: rank 0 cannot write
    /// `--save`; a learning rate that diverges on every rank.
    #[test]
    fn a_failing_rank_ends_the_job() {
        let out = mpirun(
            2,
            &["--epochs", "1", "--save", "/nonexistent/dir/m.safetensors"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert_ne!(out.status.code(), Some(124), "timed out: {stderr}");
        assert!(stderr.contains("error: --save"), "{stderr}");
        let identity = [
            "--activation",
            "identity",
            "--output-activation",
            "identity",
        ];
        let out = mpirun(
            3,
            &[&identity[..], &["--eta", "1e6", "--threads", "1"]].concat(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert_ne!(out.status.code(), Some(124), "timed out: {stderr}");
        assert!(stderr.contains("training diverged in epoch 1"), "{stderr}");
    }

    /// Ranks given different flags are refused before training (they would leave each other
    /// waiting); ranks started without `--distributed` are refused (they would each train alone
    /// and write the same files).
    #[test]
    fn ranks_must_agree_and_know_they_are_ranks() {
        let bin = env!("CARGO_BIN_EXE_backprop");
        let rank = |epochs| {
            [
                bin,
                "train",
                "--distributed",
                "--layers",
                "784,8,10",
                "--epochs",
                epochs,
            ]
        };
        let out = launch(
            &[
                &["-np", "1"],
                &rank("1")[..],
                &[":", "-np", "1"],
                &rank("2"),
            ]
            .concat(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && out.status.code() != Some(124),
            "{stderr}"
        );
        assert!(
            stderr.contains("the training settings differ between ranks"),
            "{stderr}"
        );
        let out = launch(&["-np", "2", bin, "train", "--epochs", "1"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("without --distributed"), "{stderr}");
    }

    /// Outside mpirun, `--distributed` is MPI's single rank and says so in one line.
    #[test]
    fn outside_mpirun_it_is_one_rank() {
        let out = alone(&["--distributed", "--epochs", "1", "--layers", "784,8,10"]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        ok(out);
        assert!(stderr.contains("one MPI rank"), "{stderr}");
    }
}
