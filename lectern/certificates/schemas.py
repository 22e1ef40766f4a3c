from datetime import datetime

from lectern.platform.schemas import Output


class CertificateOut(Output):
    code: str
    user_id: int
    course_id: int
    learner_name: str
    course_title: str
    issued_at: datetime
    verify_url: str
    pdf_url: str
