//! The outbox of sealed envelopes: sealed → uploading → acknowledged → erased.
//! Nothing reaches "erased" without passing through "acknowledged" (a durable receipt).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutboxState {
    Sealed,
    Uploading,
    /// The hub's receipt is stored durably.
    Acknowledged,
    /// The envelope file is gone; a tombstone remains.
    Erased,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxEvent {
    BeginUpload,
    UploadFailed,
    ReceiptStored,
    Erase,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    #[error("cannot erase an envelope without the hub's receipt")]
    NoReceipt,
    #[error("{event:?} is not possible when {state:?}")]
    Illegal { state: OutboxState, event: OutboxEvent },
}

/// The next state, or why the event is refused. Repeated uploads, receipts and erasures are
/// idempotent, so a retry after a crash is always safe.
pub fn next(state: OutboxState, event: OutboxEvent) -> Result<OutboxState, OutboxError> {
    use OutboxEvent::*;
    use OutboxState::*;
    match (state, event) {
        (Sealed | Uploading, BeginUpload) => Ok(Uploading),
        (Uploading | Sealed, UploadFailed) => Ok(Sealed),
        (Sealed | Uploading | Acknowledged, ReceiptStored) => Ok(Acknowledged),
        (Acknowledged | Erased, Erase) => Ok(Erased),
        (Sealed | Uploading, Erase) => Err(OutboxError::NoReceipt),
        (state, event) => Err(OutboxError::Illegal { state, event }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The model: what an envelope must have had, as plain facts.
    #[derive(Debug, Default, Clone, Copy)]
    struct Model {
        receipt: bool,
        erased: bool,
        uploading: bool,
    }

    impl Model {
        /// Returns whether the model accepts the event.
        fn apply(&mut self, e: OutboxEvent) -> bool {
            match e {
                OutboxEvent::BeginUpload if !self.receipt => self.uploading = true,
                OutboxEvent::UploadFailed if !self.receipt => self.uploading = false,
                OutboxEvent::ReceiptStored if !self.erased => {
                    self.receipt = true;
                    self.uploading = false;
                }
                OutboxEvent::Erase if self.receipt => self.erased = true,
                _ => return false,
            }
            true
        }

        fn state(&self) -> OutboxState {
            match (self.erased, self.receipt, self.uploading) {
                (true, _, _) => OutboxState::Erased,
                (false, true, _) => OutboxState::Acknowledged,
                (false, false, true) => OutboxState::Uploading,
                _ => OutboxState::Sealed,
            }
        }
    }

    fn event() -> impl Strategy<Value = OutboxEvent> {
        prop_oneof![
            Just(OutboxEvent::BeginUpload),
            Just(OutboxEvent::UploadFailed),
            Just(OutboxEvent::ReceiptStored),
            Just(OutboxEvent::Erase),
        ]
    }

    proptest! {
        #[test]
        fn agrees_with_the_model(events in proptest::collection::vec(event(), 0..40)) {
            let mut state = OutboxState::Sealed;
            let mut model = Model::default();
            for e in events {
                let accepted = model.apply(e);
                match next(state, e) {
                    Ok(s) => {
                        prop_assert!(accepted, "{e:?} from {state:?} accepted, the model refuses");
                        state = s;
                    }
                    Err(_) => prop_assert!(!accepted, "{e:?} from {state:?} refused, the model accepts"),
                }
                prop_assert_eq!(state, model.state());
                // The invariant that matters: erased implies a receipt was stored.
                prop_assert!(state != OutboxState::Erased || model.receipt);
            }
        }
    }

    #[test]
    fn erasing_without_a_receipt_is_refused() {
        assert_eq!(next(OutboxState::Sealed, OutboxEvent::Erase), Err(OutboxError::NoReceipt));
        assert_eq!(next(OutboxState::Uploading, OutboxEvent::Erase), Err(OutboxError::NoReceipt));
        assert_eq!(next(OutboxState::Erased, OutboxEvent::Erase), Ok(OutboxState::Erased));
    }
}
