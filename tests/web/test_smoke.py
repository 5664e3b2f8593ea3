from tests.conftest import login


def test_login_and_home(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    assert client.get("/acme/").status_code == 302
    response = login(client, "acme", "ada@acme.fr")
    assert response.status_code == 303
    page = client.get("/acme/")
    assert page.status_code == 200
    assert "Ada" in page.get_data(as_text=True)
