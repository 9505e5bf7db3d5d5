//! The `services` table.

use app::model::{ServiceSummary, SyncState};
use chrono::{DateTime, Utc};

use super::{Store, StoreError, query_error};

/// A service as discovery reports it, before Berth has checked it.
#[derive(Debug, Clone)]
pub struct NewService {
    pub project: String,
    pub name: String,
    pub image: String,
    pub current_tag: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: i64,
    project: String,
    name: String,
    image: String,
    current_tag: Option<String>,
    best_candidate: Option<String>,
    state: String,
    last_checked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ServiceRow> for ServiceSummary {
    type Error = StoreError;

    fn try_from(row: ServiceRow) -> Result<Self, StoreError> {
        let state = SyncState::parse(&row.state).ok_or_else(|| {
            StoreError::Corrupt(format!("service {} has unknown state {:?}", row.id, row.state))
        })?;
        Ok(ServiceSummary {
            id: row.id,
            project: row.project,
            name: row.name,
            image: row.image,
            current_tag: row.current_tag,
            best_candidate: row.best_candidate,
            state,
            last_checked_at: row.last_checked_at,
        })
    }
}

impl Store {
    /// Every service, ordered by project then name.
    pub async fn list_services(&self) -> Result<Vec<ServiceSummary>, StoreError> {
        let rows: Vec<ServiceRow> = sqlx::query_as(
            "SELECT id, project, name, image, current_tag, best_candidate, state, last_checked_at
             FROM services ORDER BY project, name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list services"))?;
        rows.into_iter().map(ServiceSummary::try_from).collect()
    }

    /// Insert a service, or refresh its image and tag if it is already known. Returns its id.
    pub async fn upsert_service(&self, service: &NewService) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO services (project, name, image, current_tag) VALUES (?, ?, ?, ?)
             ON CONFLICT (project, name) DO UPDATE SET image = excluded.image,
                 current_tag = excluded.current_tag
             RETURNING id",
        )
        .bind(&service.project)
        .bind(&service.name)
        .bind(&service.image)
        .bind(&service.current_tag)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("upsert service"))
    }

    /// Record that every service was checked at `at`.
    pub async fn mark_all_checked(&self, at: DateTime<Utc>) -> Result<u64, StoreError> {
        let result = sqlx::query("UPDATE services SET last_checked_at = ?")
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(query_error("mark services checked"))?;
        Ok(result.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn services_round_trip_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("berth.db").display());
        let store = Store::open(&url).await.unwrap();
        assert!(store.list_services().await.unwrap().is_empty());
        for (project, name) in [("shop", "web"), ("blog", "app"), ("shop", "api")] {
            store
                .upsert_service(&NewService {
                    project: project.into(),
                    name: name.into(),
                    image: format!("127.0.0.1:5000/{name}"),
                    current_tag: Some("1.0.0".into()),
                })
                .await
                .unwrap();
        }
        let names: Vec<_> = store
            .list_services()
            .await
            .unwrap()
            .into_iter()
            .map(|s| format!("{}/{}", s.project, s.name))
            .collect();
        assert_eq!(names, ["blog/app", "shop/api", "shop/web"]);

        // Re-opening the same file applies no migration twice and keeps the data.
        store.close().await;
        let reopened = Store::open(&url).await.unwrap();
        assert_eq!(reopened.list_services().await.unwrap().len(), 3);
    }
}
