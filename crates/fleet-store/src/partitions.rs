//! Partition maintenance: creates upcoming partitions of every table registered in
//! `ops.partitioned_tables` and applies retention. The logic lives in SQL
//! (`ops.maintain_partitions`, migration 0001) so that `psql` users get the same routine.

use sqlx::PgPool;

use crate::StoreError;

/// One partition created or dropped.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PartitionChange {
    pub parent_table: String,
    pub partition_table: String,
    pub action: String,
}

/// Runs partition maintenance now.
pub async fn maintain(pool: &PgPool) -> Result<Vec<PartitionChange>, StoreError> {
    let changes: Vec<PartitionChange> = sqlx::query_as(
        "SELECT parent_table, partition_table, action FROM ops.maintain_partitions()",
    )
    .fetch_all(pool)
    .await?;
    for c in &changes {
        tracing::debug!(parent = %c.parent_table, partition = %c.partition_table, action = %c.action, "partition maintenance");
    }
    if !changes.is_empty() {
        let created = changes.iter().filter(|c| c.action == "created").count();
        tracing::info!(
            created,
            dropped = changes.len() - created,
            "partition maintenance"
        );
    }
    Ok(changes)
}
