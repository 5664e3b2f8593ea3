"""The first published versions of our policies and sub-processor list, written for Emarge.

Staff publish later versions from the support console; these are only what a fresh install starts with.
"""

from __future__ import annotations

import re

from tenants.retention import PERIODS

CONTACT = "dpo@emarge.fr"
END_OF_SERVICE = PERIODS["end_of_service"]
AUDIENCE = PERIODS["audience_raw_events"]

PRIVACY_FR = f"""
<p>Emarge remplace les feuilles d'émargement papier des organismes de formation. Cette politique dit quelles
données personnelles nous traitons, pourquoi, combien de temps et avec qui. Elle s'engage : chaque promesse
ci-dessous est appliquée par le logiciel lui-même. Une question ? Écrivez à notre délégué à la protection des
données : <a href="mailto:{CONTACT}">{CONTACT}</a>.</p>

<h2>1. Qui est responsable de quoi</h2>
<p>Pour les comptes des organismes (le titulaire du compte, les administrateurs et formateurs qui se connectent),
pour la facturation et pour ce site public, <strong>Emarge est responsable du traitement</strong>.</p>
<p>Pour les données que l'organisme saisit ou importe — stagiaires, sessions, présences, signatures, documents —
<strong>l'organisme de formation est responsable du traitement et Emarge est son sous-traitant</strong> au sens
du RGPD. Ces données sont celles de l'organisme : nous ne les utilisons pas pour notre compte, nous ne les
vendons pas, nous ne les partageons avec personne d'autre que les sous-traitants nécessaires au service.</p>

<h2>2. Ce que nous collectons et pourquoi</h2>
<p>Nous ne collectons que ce dont le service a besoin.</p>
<ul>
<li><strong>À l'inscription d'un organisme</strong> : nom, prénom, adresse, e-mail, téléphone du titulaire du
compte, nom et adresse de facturation, numéro de TVA le cas échéant — pour créer et administrer le compte,
facturer, répondre à vos demandes et vous informer des changements du service.</li>
<li><strong>Pour les utilisateurs</strong> (administrateurs, formateurs) : nom, prénom, e-mail, rôle, langue,
mot de passe (conservé uniquement sous forme d'empreinte argon2id).</li>
<li><strong>Pour les stagiaires</strong>, saisis par l'organisme : nom, prénom, e-mail, téléphone, entreprise,
formations prévues ; lors de la signature, l'image de la signature, l'heure et le statut de présence.</li>
<li><strong>Informations techniques</strong> : à chaque action, l'adresse IP, le navigateur et sa langue, la date
et l'heure et l'action réalisée sont enregistrés dans le journal d'audit de l'organisme, pour prouver qui a fait
quoi et protéger le service contre les abus et la fraude.</li>
<li><strong>Diagnostics</strong> : des informations de diagnostic complètes ne sont collectées qu'en cas de
dysfonctionnement, débarrassées des données personnelles.</li>
</ul>
<p>Nous ne collectons aucune donnée sensible (santé, opinions, biométrie servant à identifier une personne…). Nous
ne demandons pas la géolocalisation des stagiaires.</p>

<h2>3. Cookies et mesure d'audience</h2>
<p>Un bandeau en bas de l'écran vous permet d'accepter ou de refuser. Par défaut, seuls des cookies techniques
sont déposés (session, et « Se souvenir de moi » si vous cochez cette case : ce cookie persistant ne disparaît pas
à la fermeture du navigateur). La mesure d'audience, faite par nous seuls et sans aucun outil tiers, n'a lieu
qu'avec votre accord. Aucun cookie ne vit plus de 13 mois. Les pages de signature des stagiaires ne sont jamais
mesurées : leurs données appartiennent à l'organisme, pas à nous. Le détail figure dans notre
<a href="/privacy/cookies">politique cookies</a>.</p>

<h2>4. Combien de temps nous gardons les données</h2>
<p>Le temps nécessaire au service et aux obligations légales. L'organisme peut supprimer ses données à tout moment
depuis l'application. Nous ne conservons rien plus de {END_OF_SERVICE.words("fr")} après la fin du service, ou plus tôt
à la demande de l'organisme ; avant toute suppression, l'organisme est prévenu et peut tout exporter (certains
financeurs demandent de conserver les justificatifs plus longtemps : l'export le permet).</p>

<h2>5. Avec qui nous partageons les données</h2>
<p>Uniquement avec les sous-traitants nécessaires au service (hébergement, envoi des e-mails…), tenus par contrat
de ne les utiliser pour rien d'autre et de les protéger. Leur liste, leur pays et le fait que des données sortent
ou non de l'Union européenne sont publiés sur la page <a href="/privacy/sub-processors">sous-traitants</a>. Si des
données devaient sortir de l'Union européenne, ce serait vers un pays reconnu adéquat ou sous clauses
contractuelles types de la Commission européenne. Nous pouvons aussi devoir communiquer des données pour
respecter une obligation légale ou répondre à une autorité.</p>

<p id="own-services">Les demandes que vous adressez au support, les diagnostics d'erreur et le journal des
nouveautés sont gérés par Emarge lui-même, sur ses propres serveurs : nous n'utilisons aucun service tiers de
messagerie instantanée, de support, de suivi d'erreurs ou de publication des nouveautés.</p>

<h2>6. Sécurité</h2>
<p>Chiffrement TLS de toutes les connexions ; mots de passe d'au moins 12 caractères, les plus courants refusés ;
accès limité à ce que chacun doit connaître (un formateur ne voit que ses sessions, notre équipe de support
n'accède à un compte qu'en consignant un motif) ; sauvegardes régulières ; pare-feu et surveillance. Aucun
système n'étant infaillible, nous vous conseillons un gestionnaire de mots de passe.</p>
<p>En cas de violation de données, nous prévenons les organismes concernés au plus tard 72 heures après sa
découverte, et nous la consignons dans notre registre des violations.</p>

<h2>7. Vos droits</h2>
<p>Conformément à la loi « Informatique et Libertés » du 6 janvier 1978 modifiée et au règlement (UE) 2016/679,
vous pouvez accéder à vos données, les rectifier, les faire effacer, en obtenir la portabilité, en limiter le
traitement, et retirer votre consentement à tout moment (pour les cookies : lien « Paramètres des cookies » en
bas de chaque page). Écrivez à <a href="mailto:{CONTACT}">{CONTACT}</a> ; nous répondons sous un mois. Si vous
êtes stagiaire, adressez-vous d'abord à votre organisme de formation, responsable de vos données : nous
l'aiderons à vous répondre. Si vous estimez vos droits non respectés, vous pouvez saisir la CNIL
(<a href="https://www.cnil.fr/fr/plaintes">www.cnil.fr/fr/plaintes</a>, 3 place de Fontenoy, TSA 80715,
75334 Paris Cedex 07).</p>

<h2>8. Mises à jour de cette politique</h2>
<p>Chaque version porte sa date de mise à jour et les versions précédentes restent consultables sur cette page.
Si un changement est substantiel, nous l'annonçons par e-mail aux titulaires de compte et demandons aux
utilisateurs d'en prendre connaissance à leur prochaine connexion.</p>
"""

PRIVACY_EN = f"""
<p>Emarge replaces the paper attendance sheets of training organizations. This policy says which personal data
we process, why, for how long and with whom. It is a commitment: each promise below is enforced by the software
itself. A question? Write to our data protection officer: <a href="mailto:{CONTACT}">{CONTACT}</a>.</p>

<h2>1. Who is responsible for what</h2>
<p>For organizations' accounts (the account holder, the administrators and facilitators who log in), for billing
and for this public site, <strong>Emarge is the data controller</strong>.</p>
<p>For the data an organization enters or imports — trainees, sessions, attendance, signatures, documents —
<strong>the training organization is the controller and Emarge its processor</strong> under the GDPR. That data
is the organization's: we do not use it for ourselves, we do not sell it, we share it with no one but the
sub-processors the service needs.</p>

<h2>2. What we collect and why</h2>
<p>We only collect what the service needs.</p>
<ul>
<li><strong>When an organization signs up</strong>: the account holder's name, first name, address, email and
phone, the billing name and address, the VAT number if any — to create and run the account, invoice, answer your
questions and tell you about changes to the service.</li>
<li><strong>For users</strong> (administrators, facilitators): name, first name, email, role, language, password
(kept only as an argon2id hash).</li>
<li><strong>For trainees</strong>, entered by the organization: name, first name, email, phone, company, planned
trainings; when they sign, the signature image, the time and the attendance status.</li>
<li><strong>Technical information</strong>: for each action, the IP address, the browser and its language, the
date and time and the action taken are written to the organization's audit trail, to prove who did what and to
protect the service from abuse and fraud.</li>
<li><strong>Diagnostics</strong>: full diagnostic information is collected only when something breaks, scrubbed
of personal data.</li>
</ul>
<p>We collect no sensitive data (health, opinions, biometrics used to identify a person…). We do not ask for
trainees' location.</p>

<h2>3. Cookies and audience measurement</h2>
<p>A banner at the bottom of the screen lets you accept or refuse. By default only technical cookies are set (the
session, and "Remember me" if you tick that box: that persistent cookie does not go away when you close the
browser). Audience measurement, done by ourselves alone with no third-party tool, only happens with your consent.
No cookie lives longer than 13 months. Trainees' signing pages are never measured: their data is the
organization's, not ours to analyse. The details are in our <a href="/privacy/cookies">cookie policy</a>.</p>

<h2>4. How long we keep data</h2>
<p>As long as the service and the law require. The organization can delete its data at any time from the
application. We keep nothing more than {END_OF_SERVICE.words("en")} after the end of the service, or earlier if the
organization asks; before any deletion the organization is warned and can export everything (some funders ask for
supporting documents to be kept longer: the export allows it).</p>

<h2>5. Who we share data with</h2>
<p>Only the sub-processors the service needs (hosting, sending emails…), bound by contract to use the data for
nothing else and to protect it. Their list, their country and whether data leaves the European Union are
published on the <a href="/privacy/sub-processors">sub-processors</a> page. Should data leave the European
Union, it would be to a country recognised as adequate or under the European Commission's standard contractual
clauses. We may also have to disclose data to comply with a legal obligation or answer an authority.</p>

<p id="own-services">The requests you send to support, error diagnostics and the changelog are run by
Emarge itself, on its own servers: we use no third-party chat, helpdesk, error-tracking or changelog
service.</p>

<h2>6. Security</h2>
<p>TLS encryption of every connection; passwords of at least 12 characters, the most common ones refused; access
limited to what each person needs to know (a facilitator sees only their sessions, our support team enters an
account only by recording a reason); regular backups; firewalls and monitoring. As no system is infallible, we
recommend a password manager.</p>
<p>If a data breach happens, we notify the organizations concerned no later than 72 hours after discovering it,
and we record it in our breach register.</p>

<h2>7. Your rights</h2>
<p>Under the French Data Protection Act of 6 January 1978 as amended and Regulation (EU) 2016/679, you can access
your data, have it corrected or erased, take it elsewhere, restrict its processing, and withdraw your consent at
any time (for cookies: the "Cookie settings" link at the bottom of every page). Write to
<a href="mailto:{CONTACT}">{CONTACT}</a>; we answer within one month. If you are a trainee, ask your training
organization first, as it controls your data: we will help it answer you. If you believe your rights are not
respected, you can complain to the CNIL (<a href="https://www.cnil.fr/fr/plaintes">www.cnil.fr/fr/plaintes</a>,
3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France).</p>

<h2>8. Updates to this policy</h2>
<p>Each version shows the date it was last updated and previous versions stay readable on this page. When a
change is substantial, we announce it by email to account holders and ask users to read it at their next
login.</p>
"""

COOKIES_FR = f"""
<p>Un cookie est un petit fichier que le site dépose dans votre navigateur. Emarge n'utilise aucun cookie
publicitaire, aucun outil de mesure tiers, aucun bouton de réseau social : tous nos cookies sont les nôtres
(« first party ») et aucune donnée qu'ils permettent de recueillir n'est transmise à quiconque.</p>
<h2>Ce qui est déposé avant votre choix</h2>
<p>Uniquement des cookies techniques, indispensables au fonctionnement du site : la session (elle disparaît à la
fermeture du navigateur) et, si vous cochez « Se souvenir de moi » en vous connectant, un cookie persistant qui
vous garde connecté sur cet appareil — il ne disparaît <strong>pas</strong> à la fermeture du navigateur, mais à
la déconnexion, au changement de mot de passe ou au bout de 365 jours.</p>
<h2>La mesure d'audience, seulement avec votre accord</h2>
<p>Si vous l'acceptez, nous mesurons nous-mêmes l'audience du site : pages vues, temps passé sur la page (compté
seulement quand elle est visible), clics sur certains boutons, la façon dont vous êtes arrivé (accès direct,
moteur de recherche, réseau social, autre site et son nom de domaine), votre langue et le type d'appareil
(mobile, tablette, ordinateur). Nous n'enregistrons ni votre adresse IP, ni le détail de votre navigateur, ni le
contenu des adresses visitées au-delà du modèle de page. Les signaux de refus envoyés par votre navigateur
(Global Privacy Control, Do Not Track) valent refus. Les pages de signature des stagiaires ne sont jamais
mesurées. Les événements bruts sont supprimés après {AUDIENCE.words("fr")} ; seuls des totaux par jour sont conservés.</p>
<h2>Votre choix</h2>
<p>Le bandeau en bas de l'écran propose « Accepter », « Refuser » et « Choisir ». Fermer le bandeau vaut refus.
Votre choix est gardé 6 mois, puis nous vous le redemandons ; nous le redemandons aussi dès que cette politique
change. Pour changer d'avis, cliquez sur « Paramètres des cookies » en bas de n'importe quelle page : retirer
son accord est aussi simple que le donner, et la mesure s'arrête immédiatement. Nous gardons une preuve de
chaque choix (un numéro aléatoire, les catégories choisies, la version de cette politique et du bandeau, l'heure
et une adresse IP tronquée), rien de plus.</p>
<p>Vous pouvez aussi bloquer ou supprimer les cookies dans les réglages de votre navigateur ; sans cookies
techniques, vous ne pourrez cependant pas vous connecter.</p>
"""

COOKIES_EN = f"""
<p>A cookie is a small file a site stores in your browser. Emarge uses no advertising cookie, no third-party
measurement tool, no social network button: all our cookies are our own ("first party") and nothing they let us
collect is passed to anyone.</p>
<h2>What is set before you choose</h2>
<p>Only technical cookies, without which the site cannot work: the session (it goes away when you close the
browser) and, if you tick "Remember me" when logging in, a persistent cookie that keeps you signed in on this
device — it does <strong>not</strong> go away when you close the browser, but when you log out, change your
password, or after 365 days.</p>
<h2>Audience measurement, only with your consent</h2>
<p>If you accept, we measure the site's audience ourselves: pages viewed, time on the page (counted only while it
is visible), clicks on some buttons, how you arrived (directly, from a search engine, a social network, another
site and its domain name), your language and the kind of device (mobile, tablet, computer). We store neither your
IP address, nor the details of your browser, nor the addresses you visit beyond the page template. Refusal signals
sent by your browser (Global Privacy Control, Do Not Track) count as a refusal. Trainees' signing pages are never
measured. Raw events are deleted after {AUDIENCE.words("en")}; only daily totals are kept.</p>
<h2>Your choice</h2>
<p>The banner at the bottom of the screen offers "Accept", "Refuse" and "Choose". Closing the banner counts as a
refusal. Your choice is kept 6 months, then we ask again; we also ask again as soon as this policy changes. To
change your mind, click "Cookie settings" at the bottom of any page: withdrawing is as easy as giving, and
measurement stops at once. We keep a proof of each choice (a random number, the categories chosen, the version of
this policy and of the banner, the time and a truncated IP address), nothing more.</p>
<p>You can also block or delete cookies in your browser's settings; without technical cookies, though, you will
not be able to log in.</p>
"""

LEGAL_FR = f"""
<h2>Éditeur</h2>
<p>Le site et le service Emarge sont édités par Emarge. Contact : <a href="mailto:contact@emarge.fr">contact@emarge.fr</a>.
Délégué à la protection des données : <a href="mailto:{CONTACT}">{CONTACT}</a>.</p>
<h2>Hébergement</h2>
<p>Le service est hébergé en France ; l'hébergeur et nos autres sous-traitants sont listés sur la page
<a href="/privacy/sub-processors">sous-traitants</a>.</p>
<h2>Propriété intellectuelle</h2>
<p>Les textes, le logiciel et la marque Emarge sont protégés. Les données saisies par un organisme restent sa
propriété.</p>
<h2>Données personnelles et cookies</h2>
<p>Voir notre <a href="/privacy">politique de confidentialité</a> et notre
<a href="/privacy/cookies">politique cookies</a>.</p>
"""

LEGAL_EN = f"""
<h2>Publisher</h2>
<p>The Emarge site and service are published by Emarge. Contact: <a href="mailto:contact@emarge.fr">contact@emarge.fr</a>.
Data protection officer: <a href="mailto:{CONTACT}">{CONTACT}</a>.</p>
<h2>Hosting</h2>
<p>The service is hosted in France; the host and our other sub-processors are listed on the
<a href="/privacy/sub-processors">sub-processors</a> page.</p>
<h2>Intellectual property</h2>
<p>The texts, the software and the Emarge brand are protected. Data entered by an organization remains its
property.</p>
<h2>Personal data and cookies</h2>
<p>See our <a href="/privacy">privacy policy</a> and our <a href="/privacy/cookies">cookie policy</a>.</p>
"""

POLICIES = {
    "privacy": (PRIVACY_FR, PRIVACY_EN),
    "cookies": (COOKIES_FR, COOKIES_EN),
    "legal": (LEGAL_FR, LEGAL_EN),
}

# name, role (fr), role (en), country, leaves the EU, safeguards. To be confirmed against the signed contracts
# before going live: staff keep this list current from the support console.
SUB_PROCESSORS = (
    (
        "OVHcloud",
        "Hébergement de l'application, des bases de données et des sauvegardes",
        "Hosting of the application, databases and backups",
        "France",
        False,
        "",
    ),
    (
        "Brevo",
        "Envoi des e-mails (liens de signature, notifications)",
        "Sending emails (signing links, notifications)",
        "France",
        False,
        "",
    ),
)


def _paragraph(text: str, marker: str) -> str:
    """The paragraph of ``text`` that carries ``marker``: a revision publishes the default's own words."""
    return re.search(rf"<p {re.escape(marker)}>.*?</p>", text, re.S).group(0)


# Later versions every platform publishes once, in order (a fresh install's first version already holds them):
# (kind, marker, summary FR, summary EN, paragraph FR, paragraph EN). The paragraph goes before the policy's "6."
# section (at the end if there is none) of the version in force; a platform where any version already holds the
# marker is left alone, so a paragraph staff later removed on purpose does not come back.
OWN_SERVICES = 'id="own-services"'
REVISIONS = (
    (
        "privacy",
        OWN_SERVICES,
        "Les demandes au support, les diagnostics et les nouveautés sont gérés par Emarge lui-même.",
        "Support requests, diagnostics and the changelog are run by Emarge itself.",
        _paragraph(POLICIES["privacy"][0], OWN_SERVICES),
        _paragraph(POLICIES["privacy"][1], OWN_SERVICES),
    ),
)
