from django.urls import path

from o2c.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.sign_in, name="sign_in"),
    path("link/<str:token>/", views.link, name="link"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("home/", views.home, name="home"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:document_id>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:document_id>/dispute/", views.dispute_new, name="dispute_new"),
    path("invoices/<int:document_id>/<str:kind>/", views.invoice_file, name="invoice_file"),
    path("credit-notes/", views.credit_note_list, name="credit_note_list"),
    path(
        "credit-notes/<int:document_id>/<str:kind>/",
        views.credit_note_file,
        name="credit_note_file",
    ),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/<int:document_id>/", views.payment_detail, name="payment_detail"),
    path("pay/", views.pay, name="pay"),
    path("pay/<str:reference>/return/", views.payment_return, name="payment_return"),
    path("pay/<str:reference>/", views.payment_status, name="payment_status"),
    path("statement/", views.statement, name="statement"),
    path("promise/", views.promise, name="promise"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/<str:case_number>/", views.dispute_detail, name="dispute_detail"),
    path(
        "disputes/<str:case_number>/files/<int:attachment_id>/",
        views.dispute_file,
        name="dispute_file",
    ),
    path("account/", views.account, name="account"),
    path("account/mandate/", views.mandate_new, name="mandate_new"),
]
