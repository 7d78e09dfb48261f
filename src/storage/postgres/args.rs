//! Query arguments gathered while a statement is built, each handing back its `$n`
//! placeholder, so dynamic filters and their arguments never fall out of step.

use tokio_postgres::types::ToSql;

/// The arguments of one statement, in placeholder order.
#[derive(Default)]
pub(super) struct Args {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Args {
    /// Adds `value` and returns its placeholder.
    pub fn push<T: ToSql + Sync + Send + 'static>(&mut self, value: T) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }

    /// The arguments as the driver takes them.
    pub fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|value| value.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}
