"""Wagtail's "Translate page" form (wagtail.contrib.simple_translation) opened with one
language already ticked: `?locale=<language code>` (the Missing translations report links
here with the language the manager clicked).

Everything else is Wagtail's own view: its permission checks (the "Can submit translations"
permission, then edit rights on the page), its form, the include-subtree option, the copy
it makes on submit and where it goes next. The locale is only an initial value: a code that
is unknown, already translated or disabled (its parent page is not translated) is ignored,
and the form opens as Wagtail shows it."""

from wagtail.contrib.simple_translation.views import SubmitPageTranslationView


class SubmitPageTranslationForLocaleView(SubmitPageTranslationView):
    def requested_locale(self, form):
        """The Locale named by ?locale= if the form offers it (untranslated and enabled)."""
        code = self.request.GET.get("locale", "")
        if not code:
            return None
        field = form.fields["locales"]
        locale = field.queryset.filter(language_code=code).first()
        if locale is None or locale.pk in set(field.widget.disabled_values):
            return None
        return locale

    def get_form(self):
        form = super().get_form()
        if self.request.method != "POST":
            locale = self.requested_locale(form)
            if locale is not None:
                form.initial["locales"] = [locale.pk]
        return form
