//! `Layers<T>`: one `T` per layer `l = 2..=L`, indexed by the lecture's layer number.
//!
//! This is the one place where the lecture's numbering meets 0-based storage: `layers[l]` is
//! element `l − 2` of a vector. Layer 1, the input, has no weights and no entry.

use std::ops::{Index, IndexMut};

/// One value per layer with weights, indexed `2..=L` like the lecture.
#[derive(Clone, Debug, PartialEq)]
pub struct Layers<T>(Vec<T>);

impl<T> Layers<T> {
    /// Builds the values of layers `2, 3, …` from a vector in that order.
    pub fn from_vec(values: Vec<T>) -> Self {
        Layers(values)
    }
    /// `L`, the number of layers of the network, input included.
    pub fn num_layers(&self) -> usize {
        self.0.len() + 1
    }
    /// `(l, value)` for `l = 2..=L`.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (usize, &T)> + ExactSizeIterator {
        self.0.iter().enumerate().map(|(i, t)| (i + 2, t))
    }
    /// `(l, value)` for `l = 2..=L`, mutable.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (usize, &mut T)> + ExactSizeIterator {
        self.0.iter_mut().enumerate().map(|(i, t)| (i + 2, t))
    }
    /// The values in order `2..=L`.
    pub fn values(&self) -> &[T] {
        &self.0
    }
    /// Applies `f` to each value, keeping the numbering.
    pub fn map<U>(&self, f: impl FnMut(&T) -> U) -> Layers<U> {
        Layers(self.0.iter().map(f).collect())
    }
    /// The value of `l` and the value of `l + 1`, the second mutable (BP2 reads one, writes the other).
    pub(crate) fn pair_mut(&mut self, l: usize) -> (&T, &mut T) {
        let slot = self.slot(l + 1);
        let (head, tail) = self.0.split_at_mut(slot);
        (&head[head.len() - 1], &mut tail[0])
    }

    /// The value of `l − 1` mutable beside the value of `l` (BP2 writes `δ^(l-1)` from `δ^(l)`).
    pub(crate) fn pair_mut_rev(&mut self, l: usize) -> (&mut T, &T) {
        let slot = self.slot(l);
        let (head, tail) = self.0.split_at_mut(slot);
        (&mut head[head.len() - 1], &tail[0])
    }

    fn slot(&self, l: usize) -> usize {
        assert!(
            (2..=self.num_layers()).contains(&l),
            "layer {l} has no weights: the layers with weights are 2..={}",
            self.num_layers()
        );
        l - 2
    }
}

impl<T> Index<usize> for Layers<T> {
    type Output = T;
    fn index(&self, l: usize) -> &T {
        &self.0[self.slot(l)]
    }
}

impl<T> IndexMut<usize> for Layers<T> {
    fn index_mut(&mut self, l: usize) -> &mut T {
        let i = self.slot(l);
        &mut self.0[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_numbers_start_at_two() {
        let mut layers = Layers::from_vec(vec!["W2", "W3"]);
        assert_eq!(layers.num_layers(), 3);
        assert_eq!(layers[2], "W2");
        assert_eq!(layers[3], "W3");
        layers[3] = "new";
        assert_eq!(
            layers.iter().collect::<Vec<_>>(),
            vec![(2, &"W2"), (3, &"new")]
        );
        assert!(std::panic::catch_unwind(|| layers[1]).is_err());
        assert!(std::panic::catch_unwind(|| layers[4]).is_err());
    }
}
