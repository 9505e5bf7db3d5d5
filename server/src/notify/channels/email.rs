//! Email over SMTP (lettre): an RFC 5322 plain-text message with the notification's title as
//! its subject, sent to every recipient.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::notify::NotifyError;
use crate::notify::channel::{SmtpSettings, SmtpTls};
use crate::notify::message::Notification;

const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// The message as it is sent (also what tests compare with).
pub fn message(
    settings: &SmtpSettings,
    notification: &Notification,
) -> Result<Message, NotifyError> {
    let mailbox = |address: &str| {
        address
            .parse::<Mailbox>()
            .map_err(|error| NotifyError::Format {
                channel: "smtp",
                reason: format!("{address:?} is not an email address: {error}"),
            })
    };
    let mut builder = Message::builder()
        .from(mailbox(&settings.from)?)
        .subject(format!("[Berth] {}", notification.title))
        .header(ContentType::TEXT_PLAIN);
    for to in &settings.to {
        builder = builder.to(mailbox(to)?);
    }
    let body = format!(
        "{}\n\nEvent: {}\nSubject: {}\nVersion: {}\n",
        notification.text,
        notification.kind.as_str(),
        notification.subject,
        notification.version
    );
    builder.body(body).map_err(|error| NotifyError::Format {
        channel: "smtp",
        reason: error.to_string(),
    })
}

pub async fn send(settings: &SmtpSettings, notification: &Notification) -> Result<(), NotifyError> {
    let email = message(settings, notification)?;
    let failed = |source| NotifyError::Smtp {
        host: settings.host.clone(),
        source,
    };
    let builder = match settings.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host),
        SmtpTls::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host).map_err(failed)?
        }
        SmtpTls::Implicit => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(failed)?
        }
    };
    let mut builder = builder.port(settings.port).timeout(Some(SMTP_TIMEOUT));
    if let Some((user, password)) = &settings.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    builder.build().send(email).await.map_err(failed)?;
    Ok(())
}
